"""LLM answers on top of the grounded answer.

The selection engine decides the facts; a chat-capable model only rephrases them.

- `prompt.py`: the prompt (static prefix per language, conversation context, per-question
  facts) and its budget.
- `validate.py` + `claims.py`: checks an answer's form, names, citations and meaning, claim
  by claim (its words are `knowledge/vocabulary/validation.yaml`, loaded by `assistant.vocabulary`).
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
    Progress,
)
from .prompt import (
    EXAMPLE_MODELS,
    MIN_NEW_TOKENS,
    STATIC_TOKEN_LIMIT,
    SYSTEM_PROMPT,
    SYSTEM_RULES,
    WORKED_EXAMPLES,
    Prompt,
    PromptTooLong,
    build_prompt,
    strip_citations,
    system_prompt,
)
from .validate import Grounding, Validation, answer_key, convert_answer, validate, validate_answer

__all__ = [
    "EXAMPLE_MODELS",
    "STATIC_TOKEN_LIMIT",
    "convert_answer",
    "system_prompt",
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
    "Progress",
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
