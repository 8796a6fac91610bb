"""The chat history a request may carry: checked and normalised to Gradio's message format
(`normalise_chat_history`), and capped (`cap_history`). `RequestGuard` trims an oversized
history before Gradio parses it and leaves a marker message saying how many it dropped
(`TRIM_MARKER`), which `guarded_chat` and `busy_reply` take off again."""

from __future__ import annotations

import json
from typing import Any

HISTORY_TRIMMED_ZH = "對話太長，只保留最近 {kept} 則訊息（較早的 {dropped} 則已移除）。"
HISTORY_TRIMMED_EN = "The conversation was too long: only the last {kept} messages were kept ({dropped} older ones removed)."


# RequestGuard trims an oversized history before Gradio parses it (a 1 MiB history cost
# Gradio 1.5 s of CPU and tens of MB of transient memory) and tells `guarded_chat` how many
# messages it dropped with this first message, which `guarded_chat` removes again.
TRIM_MARKER = "\u2063assistant-history-trimmed:"


def _trim_marker(dropped: int) -> dict[str, Any]:
    return {"role": "system", "content": [{"type": "text", "text": f"{TRIM_MARKER}{dropped}"}]}


def _take_trim_marker(chat: Any) -> tuple[Any, int]:
    """(chat without RequestGuard's trim marker, the number of messages it says were dropped)."""
    if isinstance(chat, list) and chat and isinstance(chat[0], dict) and chat[0].get("role") == "system":
        content = chat[0].get("content")
        parts = content if isinstance(content, list) else [content]
        text = next((p.get("text") if isinstance(p, dict) else p for p in parts), None)
        if isinstance(text, str) and text.startswith(TRIM_MARKER):
            count = text[len(TRIM_MARKER):]
            return chat[1:], int(count) if count.isdigit() and len(count) < 9 else 0
    return chat, 0


def _message_bytes(message: Any) -> int:
    try:
        return len(json.dumps(message, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError, RecursionError):
        return 1 << 30  # unmeasurable: never kept


def cap_history(chat: Any, max_messages: int, max_bytes: int) -> tuple[list[Any], int]:
    """(the most recent messages of `chat` within `max_messages` and `max_bytes` of JSON,
    how many were dropped). Non-message entries are dropped; the kept part starts with a
    user's message when it can."""
    messages = [m for m in chat if isinstance(m, dict)] if isinstance(chat, list) else []
    kept: list[Any] = []
    size = 0
    for message in reversed(messages):
        size += _message_bytes(message)
        if len(kept) >= max_messages or size > max_bytes:
            break
        kept.append(message)
    kept.reverse()
    while len(kept) < len(messages) and kept and kept[0].get("role") == "assistant":
        kept.pop(0)  # an answer whose question was cut off
    dropped = (len(chat) if isinstance(chat, list) else 0) - len(kept)
    return kept, dropped


def normalise_chat_history(value: Any) -> tuple[Any, str | None]:
    """(the history in Gradio's message format, or a one-line reason it is unusable).

    Accepted: None or a list of {"role": "user"|"assistant"|"system", "content": ...} where
    content is text, a {"type": "text", "text": ...} part, or a list of such parts; plain text
    becomes a text part (Gradio's API accepts only the list form). Files and components are
    refused: this chat takes text only.
    """
    if value is None:
        return [], None
    if not isinstance(value, list):
        return None, f"the chat history is a {type(value).__name__}, not a list of messages"
    out: list[Any] = []
    bad: list[tuple[int, str]] = []
    for n, message in enumerate(value):
        problem = None
        if not isinstance(message, dict):
            problem = f"is a {type(message).__name__}, not a {{role, content}} object"
        elif message.get("role") not in ("user", "assistant", "system"):
            problem = "has no role user/assistant/system"
        else:
            content = message.get("content")
            parts = [content] if isinstance(content, (str, dict)) else content
            if not isinstance(parts, list) or not parts:
                problem = "has no content"
            else:
                text_parts = []
                for part in parts:
                    if isinstance(part, str):
                        text_parts.append({"type": "text", "text": part})
                    elif isinstance(part, dict) and part.get("type", "text") == "text" and isinstance(part.get("text"), str):
                        text_parts.append({"type": "text", "text": part["text"]})
                    else:
                        problem = "has a part that is not text (this chat takes text only)"
                        break
                if problem is None:
                    clean: dict[str, Any] = {"role": message["role"], "content": text_parts}
                    for key in ("metadata", "options"):
                        if isinstance(message.get(key), (dict, list)):
                            clean[key] = message[key]
                    out.append(clean)
        if problem is not None:
            bad.append((n, problem))
    if bad:
        first, why = bad[0]
        return None, (
            f"chat history message {first + 1} of {len(value)} {why}"
            + (f" ({len(bad)} malformed messages)" if len(bad) > 1 else "")
            + '; send a list of {"role": "user" or "assistant", "content": "text"}'
        )
    return out, None
