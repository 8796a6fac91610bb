"""What every text generator shares: the `Generator` protocol, its errors, sampling settings,
the statistics a stream reports, and message helpers (alternating roles, raw prompts, a
token estimate)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

Message = dict[str, str]


class GenerationError(RuntimeError):
    """Generation failed; `message_zh` / `message_en` say why in words a user can act on."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} {message_en}")


class BackendUnavailable(GenerationError):
    """The model cannot be loaded or the endpoint cannot be reached."""


class GenerationTimeout(GenerationError):
    """The backend did not answer in time."""


class ContextOverflow(GenerationError):
    """prompt + max_tokens would exceed n_ctx; raised before the backend is called."""


class StreamIncomplete(GenerationError):
    """The server's stream ended or broke before it said it was done (no `[DONE]`)."""


class ModelLoading(GenerationError):
    """Another request is loading the model right now; answer without it this time."""


@dataclass(frozen=True)
class Sampling:
    """Sampling settings; low temperature because the job is rephrasing given facts."""

    temperature: float = 0.2
    top_p: float = 0.9
    top_k: int = 40
    repeat_penalty: float = 1.1
    seed: int | None = 42


@dataclass
class GenerationStats:
    """What the last `stream` call measured (seconds and token counts)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_s: float | None = None
    total_s: float = 0.0
    cancelled: bool = False
    finish_reason: str | None = None
    """Why generation ended: "stop" (complete), "length" (cut off by max_tokens or
    n_ctx), or whatever else the backend reported; None when it reported nothing."""
    completion_tokens_estimated: bool = False
    """True when `completion_tokens` is an estimate (a server that reported no usage);
    it counts tokens, never stream chunks, either way."""


@runtime_checkable
class Generator(Protocol):
    """Streams text for chat messages. The one abstract operation is `stream`."""

    name: str
    n_ctx: int

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Yield text pieces. Stops at `max_tokens`, a stop sequence, or when `cancel` is set.

        The generator's return value (`StopIteration.value`) is its `GenerationStats`,
        whose `finish_reason` says whether the answer is complete ("stop").
        """
        ...

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the prompt for `messages` takes (exact where the backend has a tokenizer)."""
        ...


def complete(
    generator: Generator, messages: Sequence[Message], max_tokens: int, stop: Sequence[str] = ()
) -> str:
    """The whole text of one generation; built on `Generator.stream`."""
    return "".join(generator.stream(messages, max_tokens, stop))


def normalize_messages(messages: Sequence[Message], merge_system: bool = False) -> list[Message]:
    """Alternating roles, as strict chat templates (Mistral, Gemma) require.

    Consecutive turns of one role are merged; with `merge_system` the system text is
    moved into the first user turn (for templates that reject a system role).
    """
    out: list[Message] = []
    system = [m["content"] for m in messages if m.get("role") == "system"]
    for message in messages:
        role = message.get("role", "user")
        if role == "system":
            continue
        role = "assistant" if role == "assistant" else "user"
        if out and out[-1]["role"] == role:
            out[-1] = {"role": role, "content": out[-1]["content"] + "\n\n" + message["content"]}
        else:
            out.append({"role": role, "content": message["content"]})
    if out and out[0]["role"] == "assistant":
        out.insert(0, {"role": "user", "content": "（對話開始）"})
    if system:
        text = "\n\n".join(system)
        if merge_system:
            if out:
                out[0] = {"role": "user", "content": text + "\n\n" + out[0]["content"]}
            else:
                out = [{"role": "user", "content": text}]
        else:
            out.insert(0, {"role": "system", "content": text})
    return out


def render_raw(messages: Sequence[Message]) -> str:
    """A plain-text prompt for base models and `/v1/completions` (no chat template)."""
    parts = []
    for message in messages:
        role = message.get("role", "user")
        label = {"system": "", "user": "User: ", "assistant": "Assistant: "}.get(role, "User: ")
        parts.append(f"{label}{message['content']}".strip())
    return "\n\n".join(parts) + "\n\nAssistant:"


RAW_STOPS = ("\nUser:", "\n\nUser", "\nAssistant:")



def _estimate_tokens(text: str) -> int:
    """A deliberately high estimate when no tokenizer is at hand: two tokens per CJK
    character (English-centric byte-level tokenizers such as SmolLM2's take 1.5-3), one
    per three other characters."""
    cjk = sum(1 for ch in text if ord(ch) >= 0x2E80)
    return 2 * cjk + (len(text) - cjk + 2) // 3


def _completion_tokens(text: str, finish_reason: str | None, max_tokens: int, count: Any) -> int:
    """Tokens generated: all of max_tokens for a `length` finish, else the text's tokens."""
    if finish_reason == "length":
        return max_tokens
    if not text:
        return 0
    try:
        return min(max_tokens, int(count(text)))
    except Exception:  # counting is best effort; never lose an answer over it
        return min(max_tokens, _estimate_tokens(text))
