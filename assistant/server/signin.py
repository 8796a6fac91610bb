"""Sign-in: `ASSISTANT_AUTH` parsed (`parse_auth`), a per-client backoff on failed sign-ins
(`LoginBackoff`), and the same sign-in for the MCP routes Gradio mounts (`McpAuth`), which
Gradio's own auth does not cover."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import threading
import time
from typing import Any

MCP_PATH = "/gradio_api/mcp"
TOO_MANY_FAILURES = "登入失敗太多次，請 {wait} 秒後再試。Too many failed sign-ins; try again in {wait} s."


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """`user:password` -> (user, password); raises ValueError on a malformed value."""
    if auth is None or auth == "":
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user.strip() or not password.strip():
        raise ValueError("ASSISTANT_AUTH must look like user:password (both non-empty, not only spaces)")
    if user != user.strip() or password != password.strip():
        raise ValueError("ASSISTANT_AUTH must look like user:password, without spaces around the name or the password")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in auth):
        raise ValueError("ASSISTANT_AUTH must not contain control characters")
    return user, password


class ClientBackoff:
    """Failed sign-ins counted per client address: the first `free` failures cost nothing;
    after that the client must wait `first_delay_s` (2 s), then twice that, … (at most
    `max_delay_s`) before its next attempt. A successful sign-in clears the count; at most
    `max_clients` clients are remembered (the oldest are forgotten first)."""

    def __init__(
        self, free: int = 3, first_delay_s: float = 2.0, max_delay_s: float = 300.0, max_clients: int = 10_000
    ) -> None:
        self.free = free
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.max_clients = max_clients
        self.failures: dict[str, tuple[int, float]] = {}  # client -> (failures, not before)
        self._lock = threading.Lock()

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return float(min(self.max_delay_s, self.first_delay_s * 2 ** (failures - self.free)))

    def standing(self, client: str) -> tuple[int, int]:
        """(the client's failures so far, whole seconds it must still wait; 0: it may try now)."""
        now = time.monotonic()
        with self._lock:
            count, not_before = self.failures.get(client, (0, 0.0))
        return count, (int(not_before - now) + 1 if now < not_before else 0)

    def failed(self, client: str, count: int) -> None:
        """One more failure after the `count` that `standing` gave."""
        with self._lock:
            count += 1
            self.failures[client] = (count, time.monotonic() + self.delay(count))
            if len(self.failures) > self.max_clients:  # forget the oldest entries
                for key in list(self.failures)[: len(self.failures) - self.max_clients]:
                    self.failures.pop(key, None)

    def cleared(self, client: str) -> None:
        with self._lock:
            self.failures.pop(client, None)


class LoginBackoff(ClientBackoff):
    """ASGI middleware: a per-client backoff on failed sign-ins (`ASSISTANT_AUTH`).

    The first `free` failures from one client address are answered as usual; after that the
    client must wait (see `ClientBackoff`), and an attempt made sooner gets 429 with
    `Retry-After`. A successful sign-in clears it.
    Behind a reverse proxy every client has the proxy's address: rate-limit there too.
    """

    def __init__(
        self, app: Any, free: int = 3, first_delay_s: float = 2.0, max_delay_s: float = 300.0, max_clients: int = 10_000
    ) -> None:
        super().__init__(free, first_delay_s, max_delay_s, max_clients)
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method", "GET").upper() != "POST" or not scope.get(
            "path", ""
        ).rstrip("/").endswith("/login"):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        count, wait = self.standing(client)
        if wait:
            from starlette.responses import JSONResponse  # noqa: PLC0415

            response = JSONResponse(
                {"detail": TOO_MANY_FAILURES.format(wait=wait)},
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
            await response(scope, receive, send)
            return
        status: list[int] = []

        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] < 300:
            self.cleared(client)
        elif status and status[0] in (400, 401, 403):
            self.failed(client, count)


def is_mcp_path(path: str) -> bool:
    """True for Gradio's MCP routes (`/gradio_api/mcp`, `/gradio_api/mcp/...`), however written."""
    while "//" in path:
        path = path.replace("//", "/")
    path = path.lower()
    return path.rstrip("/").endswith(MCP_PATH) or f"{MCP_PATH}/" in path


class McpAuth(ClientBackoff):
    """ASGI middleware: the MCP routes ask for the same sign-in as the web UI.

    Gradio's `auth` guards its own routes with a session cookie; the MCP server it mounts
    under `/gradio_api/mcp` has no such check. With `ASSISTANT_AUTH=user:password` set, a
    request to those routes passes with HTTP Basic credentials for that user
    (`Authorization: Basic base64(user:password)`, what MCP clients send as a header), or
    with the session cookie of a browser signed in to the UI; anything else gets 401. Wrong
    credentials back off per client as sign-ins do (after `free` failures, 429 with
    `Retry-After`, doubling). Without auth every request passes.
    """

    REALM = 'Basic realm="assistant-mcp", charset="UTF-8"'

    def __init__(
        self,
        app: Any,
        auth: tuple[str, str] | None,
        free: int = 3,
        first_delay_s: float = 2.0,
        max_delay_s: float = 300.0,
        max_clients: int = 10_000,
    ) -> None:
        super().__init__(free, first_delay_s, max_delay_s, max_clients)
        self.app = app
        self.auth = auth

    def basic_ok(self, header: str | None) -> bool | None:
        """True/False for Basic credentials that match / do not; None when none were sent."""
        if not header:
            return None
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "basic" or not value.strip():
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        user, sep, password = decoded.partition(":")
        assert self.auth is not None
        return bool(sep) & hmac.compare_digest(user.encode(), self.auth[0].encode()) & hmac.compare_digest(
            password.encode(), self.auth[1].encode()
        )

    @staticmethod
    def session_ok(scope: Any, cookie_header: str | None) -> bool:
        """A browser signed in to the UI: Gradio's access-token cookie names a live session."""
        if not cookie_header:
            return False
        app = scope.get("app")
        tokens = getattr(app, "tokens", None)
        cookie_id = getattr(app, "cookie_id", None)
        if not tokens or cookie_id is None:
            return False
        from http.cookies import CookieError, SimpleCookie  # noqa: PLC0415

        try:
            jar = SimpleCookie(cookie_header)
        except CookieError:
            return False
        for key in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
            morsel = jar.get(key)
            if morsel is not None and morsel.value in tokens:
                return True
        return False

    async def _reply(self, send: Any, status: int, message: str, headers: list[tuple[bytes, bytes]]) -> None:
        body = json.dumps({"detail": message, "error": message}, ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode()), *headers,
        ]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.auth is None or scope.get("type") != "http" or not is_mcp_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for key, value in scope.get("headers") or []:
            headers.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
        client = (scope.get("client") or ("unknown", 0))[0]
        count, wait = self.standing(client)
        if wait:
            await self._reply(send, 429, TOO_MANY_FAILURES.format(wait=wait), [(b"retry-after", str(wait).encode())])
            return
        verdict = self.basic_ok(headers.get("authorization"))
        if verdict or (verdict is None and self.session_ok(scope, headers.get("cookie"))):
            if count:
                self.cleared(client)
            await self.app(scope, receive, send)
            return
        if verdict is False:  # credentials that do not match: a guess, counted
            self.failed(client, count)
        await self._reply(
            send, 401,
            "MCP 需要登入：以 HTTP Basic 傳送 ASSISTANT_AUTH 的帳號密碼。"
            "The MCP server needs the app's sign-in: send ASSISTANT_AUTH's user and password as HTTP Basic auth.",
            [(b"www-authenticate", self.REALM.encode())],
        )
