"""Text generation behind one small Protocol, with three adapters.

- `LlamaCppGenerator`: llama-cpp-python in process (CPU by default, GPU layers by
  `ASSISTANT_N_GPU_LAYERS`). One `Llama` per process and model, shared by every
  generator and guarded by a lock, so concurrent requests queue instead of crashing
  (llama-cpp-python#1367, #1995).
- `OpenAICompatibleGenerator`: any OpenAI-compatible HTTP endpoint (llama.cpp's server,
  `python -m llama_cpp.server`, vLLM, Ollama), streamed as server-sent events over the
  standard library's urllib.
- `FakeGenerator`: scripted output for tests, in the style of simonw/llm's `MockModel`.

`llama_cpp` is imported lazily inside the adapter, so `import assistant` stays fast.
"""

from __future__ import annotations

from .common import (
    RAW_STOPS,
    BackendUnavailable,
    ContextOverflow,
    GenerationError,
    GenerationStats,
    GenerationTimeout,
    Generator,
    Message,
    ModelLoading,
    Sampling,
    StreamIncomplete,
    _completion_tokens,
    _estimate_tokens,
    complete,
    normalize_messages,
    render_raw,
)
from .fake import FakeCall, FakeGenerator
from .llama_cpp import (
    LLAMA_REGISTRY,
    LlamaCppGenerator,
    TemplateTokenizer,
    _load_llama,
    chat_formatter,
    default_threads,
)
from .openai_http import (
    MESSAGE_OVERHEAD_TOKENS,
    UNKNOWN_SERVER_N_CTX,
    OpenAICompatibleGenerator,
    _is_loopback_host,
)

__all__ = [
    "LLAMA_REGISTRY", "MESSAGE_OVERHEAD_TOKENS", "RAW_STOPS", "UNKNOWN_SERVER_N_CTX", "BackendUnavailable",
    "ContextOverflow", "FakeCall", "FakeGenerator", "GenerationError", "GenerationStats", "GenerationTimeout",
    "Generator", "LlamaCppGenerator", "Message", "ModelLoading", "OpenAICompatibleGenerator", "Sampling",
    "StreamIncomplete", "TemplateTokenizer", "chat_formatter", "complete", "default_threads", "normalize_messages",
    "render_raw", "_completion_tokens", "_estimate_tokens", "_is_loopback_host", "_load_llama",
]
