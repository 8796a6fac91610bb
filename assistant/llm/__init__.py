"""LLM answers on top of the grounded answer.

The selection engine decides the facts; a chat-capable model only rephrases them.

- `prompt.py`: the prompt (static prefix, history, per-question facts) and its budget.
- `validate.py`: checks an answer's names, numbers, citations and meaning.
- `manager.py`: status, the model, one run with a deadline, and how it ended.
- `backends.py`: the text generators (llama.cpp in process, OpenAI-compatible HTTP, a fake).
"""

from .manager import (
    LLM_ROUTES,
    NOTICE_BASE_MODEL_EN,
    NOTICE_BASE_MODEL_ZH,
    LLMManager,
    LLMResult,
    LLMRun,
    LLMStatus,
)
from .prompt import (
    EXAMPLE_MODELS,
    MIN_NEW_TOKENS,
    SYSTEM_PROMPT,
    SYSTEM_RULES,
    WORKED_EXAMPLES,
    Prompt,
    PromptTooLong,
    build_prompt,
    strip_citations,
)
from .validate import Grounding, Validation, answer_key, validate, validate_answer

__all__ = [
    "EXAMPLE_MODELS",
    "LLM_ROUTES",
    "MIN_NEW_TOKENS",
    "NOTICE_BASE_MODEL_EN",
    "NOTICE_BASE_MODEL_ZH",
    "SYSTEM_PROMPT",
    "SYSTEM_RULES",
    "WORKED_EXAMPLES",
    "LLMManager",
    "LLMResult",
    "LLMRun",
    "LLMStatus",
    "Prompt",
    "PromptTooLong",
    "Validation",
    "answer_key",
    "build_prompt",
    "strip_citations",
    "validate",
    "validate_answer",
    "Grounding",
]
