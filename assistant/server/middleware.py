"""ASGI middleware for what Gradio's routes do not check themselves: same-origin writes
(`SameOriginWrites`), request size, unknown endpoints, over-nested JSON and malformed chat
histories (`RequestGuard`), proxy headers (`ForwardedHeaders`), and CORS for the app's own
origin only (`own_origin_cors`)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from .history import _take_trim_marker, _trim_marker, cap_history, normalise_chat_history

log = logging.getLogger(__name__)



class SameOriginWrites:
    """ASGI middleware: refuse a state-changing request sent by another site's page.

    Gradio's CORS layer only withholds the `Access-Control-Allow-Origin` header, so a
    cross-origin POST (`Origin: https://evil.example`, or `Origin: null` from a sandboxed
    frame or a local file) is still run. A browser always sends `Origin` on a cross-origin
    POST; when it is present it must name this server (scheme http/https and the same
    host:port as the `Host` header), or the request gets 403 (CVE-2024-1727 class).
    Clients that send no `Origin` (gradio_client, curl) are not browsers and pass.
    """

    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, app: Any) -> None:
        self.app = app

    @staticmethod
    def same_origin(origin: str, host: str | None) -> bool:
        from urllib.parse import urlsplit  # noqa: PLC0415

        try:
            parts = urlsplit(origin.strip())
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.netloc or not host:
            return False
        default_port = "443" if parts.scheme == "https" else "80"
        origin_host = parts.netloc.lower()
        host = host.strip().lower()
        if ":" not in origin_host.rsplit("]", 1)[-1]:
            origin_host = f"{origin_host}:{default_port}"
        if ":" not in host.rsplit("]", 1)[-1]:
            host = f"{host}:{default_port}"
        return origin_host == host

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("method", "GET").upper() not in self.SAFE_METHODS:
            from starlette.datastructures import Headers  # noqa: PLC0415
            from starlette.responses import PlainTextResponse  # noqa: PLC0415

            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not self.same_origin(origin, headers.get("host")):
                response = PlainTextResponse("cross-origin request refused", status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


MAX_JSON_DEPTH = 64  # a chat request nests about 6 deep; 100,000 deep made Gradio answer 500
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Routes that write files or keep state for components this app does not have.
UPLOAD_ROUTES = ("/upload", "/upload_progress", "/process_recording", "/deep_link")
# Components that take files from the user; only they need the upload routes.
UPLOAD_COMPONENTS = frozenset({
    "File", "Files", "UploadButton", "Image", "ImageEditor", "Sketchpad", "Paint", "ImageMask", "Audio", "Video",
    "Model3D", "MultimodalTextbox", "Gallery", "ImageSlider", "SimpleImage", "DeepLinkButton",
})


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text `body` nests arrays/objects deeper than `limit` (strings ignored)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _JSON_STRING.sub(b'""', body).translate(None, _NOT_BRACKETS):
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class RequestGuard:
    """ASGI middleware for what Gradio's routes do not check themselves.

    - A request body over `max_bytes` is refused with 413 (by `Content-Length`, or while it
      streams in), so a 21 MB JSON body is never parsed.
    - A queue or predict call naming an `fn_index` or an API name the app does not have gets
      4xx with a message that says where the API is described, instead of a 500 from deep
      inside Gradio; JSON nested deeper than `MAX_JSON_DEPTH` gets 422.
    - A chat history is checked and normalised before Gradio validates it
      (`normalise_chat_history`): plain-text content works, and a malformed history gets 422
      and one short log line instead of a traceback per message. A history over `history_cap`
      is trimmed here already (`cap_history`; `guarded_chat` says so), so Gradio never parses
      thousands of messages.
    - The upload and deep-link routes answer 404 unless a component needs them (`uploads`
      False: this app has no file input).
    """

    CALL_PATHS = ("/queue/join", "/run/predict", "/api/predict")
    NAMED_CALL = re.compile(r"/(?:call(?:/v2)?|run|api)/([^/]+)/?$")

    def __init__(
        self,
        app: Any,
        max_bytes: int,
        known_functions: Any = None,
        uploads: Any = True,
        history_cap: tuple[int, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.known_functions = known_functions  # a callable giving {fn_index: BlockFunction}
        self.uploads = uploads  # bool, or a callable: whether any component takes files
        self.history_cap = history_cap  # (messages, bytes) a chat history is trimmed to, see TRIM_MARKER

    async def _reply(self, scope: Any, receive: Any, send: Any, status: int, message: str) -> None:
        from starlette.responses import JSONResponse  # noqa: PLC0415

        await JSONResponse({"detail": message, "error": message}, status_code=status)(scope, receive, send)

    def _uploads_allowed(self) -> bool:
        return bool(self.uploads() if callable(self.uploads) else self.uploads)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.rstrip("/").endswith(UPLOAD_ROUTES) and not self._uploads_allowed():
            await self._reply(scope, receive, send, 404, "this app takes no file uploads")
            return
        if scope.get("method", "GET").upper() in SameOriginWrites.SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        too_big = f"request body larger than {self.max_bytes} bytes refused"
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                if int(length) > self.max_bytes:
                    await self._reply(scope, receive, send, 413, too_big)
                    return
            except ValueError:
                await self._reply(scope, receive, send, 400, "bad Content-Length")
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._reply(scope, receive, send, 413, too_big)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if path.startswith("/gradio_api/") or path.endswith(self.CALL_PATHS):
            status, problem, checked = self._check_call(path, body)
            if problem:
                log.warning("request to %s refused (%d): %s", path[:80], status, problem[:300])
                await self._reply(scope, receive, send, status, problem)
                return
            if checked is not body:  # normalised: the length changed
                body, scope = checked, dict(scope)
                scope["headers"] = [(k, v) for k, v in scope.get("headers") or [] if k != b"content-length"] + [
                    (b"content-length", str(len(body)).encode())
                ]
        await self.app(scope, _replay([body], None, receive), send)

    def _check_call(self, path: str, body: bytes) -> tuple[int, str | None, bytes]:
        """(status, a reason to refuse or None, the body to pass on)."""
        if not body or body[:1] not in (b"{", b"["):
            return 200, None, body
        if json_depth_exceeds(body):
            return 422, f"request JSON nested deeper than {MAX_JSON_DEPTH} levels refused", body
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return 200, None, body  # Gradio answers malformed JSON with a 4xx itself
        if not isinstance(data, dict) or self.known_functions is None:
            return 200, None, body
        functions = self.known_functions()
        fn = None
        named = self.NAMED_CALL.search(path)
        if named and named.group(1) != "predict":
            name = named.group(1)
            fn = next((f for f in functions.values() if getattr(f, "api_name", None) == name), None)
            if fn is None:
                return 404, (
                    f"unknown API name {name[:40]!r}: this app has no such endpoint; "
                    "see /gradio_api/info (or the 'Use via API' page) for the endpoints"
                ), body
        elif "fn_index" in data:
            fn_index = data.get("fn_index")
            if isinstance(fn_index, bool) or not isinstance(fn_index, int) or fn_index not in functions:
                return 422, (
                    f"unknown fn_index {str(fn_index)[:40]!r}: this app has no such function; "
                    "see /gradio_api/info (or the 'Use via API' page) for the endpoints"
                ), body
            fn = functions[fn_index]
        values = data.get("data")
        if fn is None or not isinstance(values, list):
            return 200, None, body
        changed = False
        for n, block in enumerate(getattr(fn, "inputs", []) or []):
            if type(block).__name__ != "Chatbot" or n >= len(values):
                continue
            history, problem = normalise_chat_history(values[n])
            if problem:
                return 422, problem, body
            if self.history_cap is not None:
                history, earlier = _take_trim_marker(history)
                kept, dropped = cap_history(history, *self.history_cap)
                if dropped or earlier:
                    history = [_trim_marker(dropped + earlier), *kept]
            if history != values[n]:
                values[n], changed = history, True
        if changed:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")
        return 200, None, body


def needs_uploads(demo: Any) -> bool:
    """Whether any component of `demo` that an event reads takes files from the user."""
    for fn in getattr(demo, "fns", {}).values():
        for block in getattr(fn, "inputs", []) or []:
            if type(block).__name__ in UPLOAD_COMPONENTS:
                return True
    return any(type(b).__name__ == "DeepLinkButton" for b in getattr(demo, "blocks", {}).values())


class ForwardedHeaders:
    """ASGI middleware: proxy headers are believed only from the proxies the operator names.

    uvicorn applies `X-Forwarded-For`/`-Proto` only from `FORWARDED_ALLOW_IPS` (set from
    `settings.trusted_proxies` by `serve`, empty by default); this removes them (and
    `Forwarded`, `X-Real-IP`, …) from every request when no proxy is trusted, so nothing
    downstream reads a client's claim about itself. `X-Forwarded-Host` (which Gradio uses to
    build redirect URLs, e.g. after `/login`) is always removed: the `Host` header, checked by
    `TrustedHostMiddleware`, names the server.
    """

    ALWAYS = frozenset({b"x-forwarded-host", b"x-forwarded-server", b"x-original-host", b"x-host"})
    PROXY = frozenset({
        b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-port", b"x-forwarded-prefix", b"x-forwarded-scheme",
        b"x-forwarded-ssl", b"x-real-ip", b"forwarded", b"x-client-ip", b"true-client-ip", b"x-scheme",
    })

    def __init__(self, app: Any, trusted_proxies: str = "") -> None:
        self.app = app
        self.drop = self.ALWAYS | (frozenset() if trusted_proxies.strip() else self.PROXY)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") in ("http", "websocket"):
            headers = scope.get("headers") or []
            if any(k in self.drop for k, _ in headers):
                scope = dict(scope)
                scope["headers"] = [(k, v) for k, v in headers if k not in self.drop]
        await self.app(scope, receive, send)


def own_origin_cors() -> None:
    """Gradio's CORS layer grants credentialed access to any localhost origin on any port when
    the server is local (and to every origin when it is not), so a page on another local port
    could read `/gradio_api/token`. From here on it grants only the app's own origin (same
    scheme host:port as the `Host` header). Idempotent."""
    from gradio import route_utils  # noqa: PLC0415

    cls = route_utils.CustomCORSMiddleware
    if getattr(cls, "_assistant_own_origin", False):
        return

    def is_valid_origin(self: Any, request_headers: Any) -> bool:
        return SameOriginWrites.same_origin(request_headers.get("origin") or "", request_headers.get("host"))

    cls.is_valid_origin = is_valid_origin  # type: ignore[method-assign]
    cls._assistant_own_origin = True  # type: ignore[attr-defined]


def _replay(bodies: list[bytes], pending: Any, receive: Any) -> Any:
    """A `receive` that first hands back what was already read, then the real one."""
    queue: list[Any] = [{"type": "http.request", "body": b, "more_body": False} for b in bodies]
    if pending is not None:
        queue.append(pending)

    async def replay() -> Any:
        if queue:
            return queue.pop(0)
        return await receive()

    return replay
