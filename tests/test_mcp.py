"""The assistant as an MCP server: a real client from the `mcp` package lists and calls the
tools over streamable HTTP, and the app's sign-in (`ASSISTANT_AUTH`) applies to MCP as to the UI."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.api import ENDPOINTS
from assistant.server import McpAuth

from .conftest import KNOWLEDGE, ROOT, free_port

USER, PASSWORD = "team", "s3cret-mcp"
STARTUP_TIMEOUT_S = 120


# ------------------------------------------------------------------ a real app process


class AppProcess:
    """`app.py` on a free loopback port with the fake embedder (also used by test_api.py)."""

    def __init__(self, tmp: Path, **env: str) -> None:
        self.port = free_port()
        self.log = tmp / "app.log"
        self._log_file = self.log.open("wb")
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "GRADIO_"))}
        environ.update(
            ASSISTANT_EMBEDDER="fake-64",
            ASSISTANT_DATA_DIR=str(tmp / "data"),
            ASSISTANT_MODELS_DIR=str(tmp / "models"),
            ASSISTANT_KNOWLEDGE_DIR=str(KNOWLEDGE),
            GRADIO_TEMP_DIR=str(tmp / "gradio-tmp"),
            PYTHONUNBUFFERED="1",
            **env,
        )
        self.proc = subprocess.Popen(
            [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=environ, stdout=self._log_file, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if http_get(self.port, "/gradio_api/info")[0] in (200, 401, 403):
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"app.py did not start in {STARTUP_TIMEOUT_S}s:\n{self.output()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def mcp_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gradio_api/mcp/"

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log_file.close()


def http_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


INITIALIZE = json.dumps({
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}},
}).encode()
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = AppProcess(tmp_path_factory.mktemp("mcp-server"), ASSISTANT_AUTH=f"{USER}:{PASSWORD}")
    yield app
    app.stop()


async def session_run(url: str, auth: tuple[str, str] | None, work: Any) -> Any:
    """Open an MCP client session (streamable HTTP, HTTP Basic sign-in) and run `work(session)` in it."""
    import httpx
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    basic_auth = httpx.BasicAuth(*auth) if auth else None
    async with httpx.AsyncClient(auth=basic_auth, timeout=httpx.Timeout(30, read=300)) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)


# ------------------------------------------------------------------ a real MCP client


@pytest.mark.slow
def test_an_mcp_client_lists_and_calls_the_tools(server):
    async def work(session):
        tools = (await session.list_tools()).tools
        shortlist = await session.call_tool(
            "recommend", {"constraints": {"commercial": True, "memory_gb": 16, "tasks": ["coding"]}, "limit": 3,
                          "language": "en"})
        entry = await session.call_tool("catalog_entry", {"name": "Phi-4"})
        answer = await session.call_tool("ask", {"question": "Phi 4 可以商用嗎？"})
        fit = await session.call_tool("estimate", {"model": "gpt-oss-20b", "hardware": "RTX 4090"})
        return tools, shortlist, entry, answer, fit

    tools, shortlist, entry, answer, fit = asyncio.run(session_run(server.mcp_url, (USER, PASSWORD), work))
    assert sorted(t.name for t in tools) == sorted(ENDPOINTS)  # the UI's own events are not tools
    by_name = {t.name: t for t in tools}
    assert by_name["recommend"].inputSchema["properties"]["constraints"]["properties"]["tasks"]["type"] == "array"
    assert "Traditional Chinese or English" in (by_name["ask"].description or "")
    for result in (shortlist, entry, answer, fit):
        assert not result.isError, result
    data = json.loads(shortlist.content[0].text)  # JSON text, not a Python repr
    assert 1 <= len(data["recommendations"]) <= 3 and data["constraints"]["commercial_required"] is True
    assert json.loads(entry.content[0].text)["entry"]["licence"]["id"] == "MIT"
    assert "MIT" in json.loads(answer.content[0].text)["answer"]
    assert json.loads(fit.content[0].text)["fits"] is True


@pytest.mark.slow
def test_the_older_sse_transport_signs_in_too(server):
    import httpx
    from mcp import ClientSession
    from mcp.client.sse import sse_client

    async def run(auth: httpx.Auth | None) -> list[str]:
        async with sse_client(server.url + "gradio_api/mcp/sse", auth=auth, timeout=30) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return [t.name for t in (await session.list_tools()).tools]

    assert sorted(asyncio.run(run(httpx.BasicAuth(USER, PASSWORD)))) == sorted(ENDPOINTS)
    with pytest.raises(BaseException) as info:
        asyncio.run(run(None))
    assert "401" in repr(info.value)


@pytest.mark.slow
def test_a_tool_error_is_a_message(server):
    async def work(session):
        return await session.call_tool("catalog_entry", {"name": "GPT-4o"})

    result = asyncio.run(session_run(server.mcp_url, (USER, PASSWORD), work))
    assert result.isError
    assert result.content[0].text == (
        "'GPT-4o' is a closed model (its weights are not open); the catalog covers open-weight models only"
    )


@pytest.mark.slow
def test_mcp_without_credentials_is_refused(server):
    for path in ("/gradio_api/mcp/", "/gradio_api/mcp", "/gradio_api/mcp/http/", "/gradio_api/mcp/messages/?session_id=x"):
        status, headers, body = http_post(server.port, path, INITIALIZE, MCP_HEADERS)
        assert status == 401, (path, status, body[:200])
        assert headers["www-authenticate"].startswith("Basic")
        assert b"ASSISTANT_AUTH" in body and b"jsonrpc" not in body
    for path in ("/gradio_api/mcp/schema", "/gradio_api/mcp/sse", "//gradio_api/mcp/schema"):
        status, body = http_get(server.port, path)
        assert status == 401, (path, status)
        assert b"catalog_entry" not in body
    status, _, _ = http_post(server.port, "/gradio_api/mcp/", INITIALIZE, {**MCP_HEADERS, **basic(USER, "wrong")})
    assert status == 401

    async def work(session):
        return await session.list_tools()

    with pytest.raises(BaseException) as info:  # the client's task group wraps the HTTP error
        asyncio.run(session_run(server.mcp_url, None, work))
    assert "401" in repr(info.value)


@pytest.mark.slow
def test_the_schema_needs_the_sign_in_too(server):
    status, body = http_get(server.port, "/gradio_api/mcp/schema", basic(USER, PASSWORD))
    assert status == 200 and sorted(t["name"] for t in json.loads(body)) == sorted(ENDPOINTS)
    # A browser signed in to the UI (its session cookie) may read it as well, e.g. on the API page.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("POST", "/login", body=f"username={USER}&password={PASSWORD}",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    cookies = "; ".join(v.split(";", 1)[0] for k, v in response.getheaders() if k.lower() == "set-cookie")
    conn.close()
    assert response.status == 200 and "access-token" in cookies
    status, body = http_get(server.port, "/gradio_api/mcp/schema", {"Cookie": cookies})
    assert status == 200 and b"catalog_entry" in body


@pytest.mark.slow
def test_gradio_client_signs_in_for_the_api(server):
    from gradio_client import Client

    client = Client(server.url, auth=(USER, PASSWORD), verbose=False)
    assert client.predict(name="Phi-4", api_name="/catalog_entry")["id"] == "phi-4"


# ------------------------------------------------------------------ McpAuth, without a server


class Recorder:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def request(guard: McpAuth, path: str, headers: dict[str, str] | None = None, client: str = "10.0.0.9",
            app: Any = None) -> tuple[int, dict[str, str]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "client": (client, 5000), "app": app,
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    asyncio.run(guard(scope, receive, send))
    start = sent[0]
    return start["status"], {k.decode(): v.decode() for k, v in start.get("headers", [])}


def test_mcp_auth_lets_everything_through_without_auth():
    inner = Recorder()
    assert request(McpAuth(inner, auth=None), "/gradio_api/mcp/")[0] == 200 and inner.calls == 1


def test_mcp_auth_checks_basic_credentials_on_mcp_paths_only():
    inner = Recorder()
    guard = McpAuth(inner, auth=(USER, PASSWORD))
    assert request(guard, "/gradio_api/info")[0] == 200  # Gradio's own routes keep Gradio's sign-in
    assert request(guard, "/gradio_api/mcp/", basic(USER, PASSWORD))[0] == 200
    assert inner.calls == 2
    refused = ({}, basic(USER, "nope"), basic("eve", PASSWORD), {"Authorization": "Bearer " + PASSWORD},
               {"Authorization": "Basic !!!"}, {"Authorization": "Basic " + base64.b64encode(b"team").decode()})
    for n, headers in enumerate(refused):
        status, response_headers = request(guard, "/gradio_api/mcp/", headers, client=f"10.0.1.{n}")
        assert status == 401 and response_headers["www-authenticate"].startswith("Basic")
    assert inner.calls == 2


def test_mcp_auth_accepts_a_signed_in_browser_session():
    class GradioApp:
        cookie_id = "abc"
        tokens = {"tok-1": USER}

    inner = Recorder()
    guard = McpAuth(inner, auth=(USER, PASSWORD))
    assert request(guard, "/gradio_api/mcp/schema", {"Cookie": "x=1; access-token-abc=tok-1"}, app=GradioApp())[0] == 200
    assert request(guard, "/gradio_api/mcp/schema", {"Cookie": "access-token-abc=forged"}, app=GradioApp())[0] == 401
    assert request(guard, "/gradio_api/mcp/schema", {"Cookie": "access-token-abc=tok-1"}, app=None)[0] == 401


def test_wrong_mcp_credentials_back_off_like_sign_ins():
    inner = Recorder()
    guard = McpAuth(inner, auth=(USER, PASSWORD), free=3, first_delay_s=60.0)
    for _ in range(3):
        assert request(guard, "/gradio_api/mcp/", basic(USER, "guess"))[0] == 401
    status, headers = request(guard, "/gradio_api/mcp/", basic(USER, PASSWORD))
    assert status == 429 and int(headers["retry-after"]) >= 59  # even the right password waits
    assert request(guard, "/gradio_api/mcp/", basic(USER, PASSWORD), client="10.0.0.10")[0] == 200  # per client
    assert request(guard, "/gradio_api/mcp/", {}, client="10.0.0.11")[0] == 401  # no credentials: not a guess
    assert "10.0.0.11" not in guard.failures
    assert guard.delay(3) == 60.0 and guard.delay(4) == 120.0 and guard.delay(40) == guard.max_delay_s
