"""LLM answers on top of the grounded answer.

The selection engine decides the facts; a chat-capable model only rephrases them.

- `prompt.py`: the prompt (static prefix per language, conversation context, per-question
  facts) and its budget.
- The validator: `validate.py` (the entry point and the labelled-set report) checks an
  answer's form (`form.py`), names (`names.py`, `tails.py`), what comes first (`lead.py`)
  and its meaning claim by claim: `claims.py` reads the claims (`numbers.py`,
  `statements.py`) and ties each to its subject, `check.py` checks them against the
  catalog facts (`facts.py`); `grounding.py` is what it checks against. Its words are
  `knowledge/vocabulary/validation.yaml`, loaded by `assistant.vocabulary`.
- `manager.py`: status and the model; `run.py`: one run with a deadline, and how it ended.
- `backends/`: the text generators (`llama_cpp.py` in process, `openai_http.py` for an
  OpenAI-compatible server, `fake.py` for tests; `common.py` what they share).
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
