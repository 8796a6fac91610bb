"""Launching the server: `launch_options` (local bind, no share link, no file routes beyond
the app's export folder, the middleware, auth when not on loopback), `serve`, and `warm_up`,
which pays Gradio's first-request costs before the first user does."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from ..config import Settings
from .files import blocked_paths, export_folder
from .logs import install_log_guard
from .middleware import ForwardedHeaders, RequestGuard, SameOriginWrites, needs_uploads, own_origin_cors
from .signin import LoginBackoff, McpAuth, parse_auth

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)



def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"; "0.0.0.0" and names are not loopback."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def trusted_hosts(host: str) -> list[str]:
    """Host headers the server answers to: local names for a loopback bind, else any (auth guards it)."""
    if is_loopback(host) and ":" not in host:
        return sorted({"127.0.0.1", "localhost", host.strip().lower()})
    return ["*"]


def page_assets(demo: Any) -> tuple[str | None, str | None]:
    """(css, head) of the page, which `ui.build_ui` hangs on the Blocks (`page_css`,
    `page_head`). The server never imports `ui`."""
    return getattr(demo, "page_css", None), getattr(demo, "page_head", None)


def launch_options(demo: gr.Blocks, settings: Settings) -> dict[str, Any]:
    """The keyword arguments for `Blocks.launch`: private, local, nothing else on disk served.

    Raises:
        ValueError: a non-loopback host without auth, or malformed auth.
    """
    import gradio as gr  # noqa: PLC0415

    auth = parse_auth(settings.auth)
    if not is_loopback(settings.host) and auth is None:
        raise ValueError(
            f"refusing to listen on {settings.host!r} without a password: anyone on the network could use it. "
            "Set ASSISTANT_AUTH=user:password, or use --host 127.0.0.1."
        )
    export_dir = getattr(demo, "export_dir", None) or export_folder(settings)
    from starlette.middleware import Middleware  # noqa: PLC0415
    from starlette.middleware.trustedhost import TrustedHostMiddleware  # noqa: PLC0415

    own_origin_cors()
    css, head = page_assets(demo)
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "share": False,  # explicit: GRADIO_SHARE and hosted-notebook detection cannot turn it on
        "auth": auth,
        "auth_message": "選型助手：請登入 Please sign in" if auth else None,
        # A non-empty list, so GRADIO_ALLOWED_PATHS from the environment is ignored.
        "allowed_paths": [str(export_dir)],
        "blocked_paths": blocked_paths(settings),
        "max_file_size": "1mb",
        "ssr_mode": False,
        "mcp_server": True,  # the four tools of assistant.api at /gradio_api/mcp/, signed in by McpAuth
        "pwa": False,
        "enable_monitoring": False,
        "run_history": False,
        "show_error": False,
        "strict_cors": True,
        "footer_links": ["api"],
        # Sessions kept in memory: each holds at most the capped chat history and its panels.
        "state_session_capacity": settings.session_capacity,
        # A page on another site that rebinds its DNS name to 127.0.0.1 sends its own Host
        # header; a local server answers only to local names (CVE-2024-47165 class).
        # Another site's page may POST here too: a request whose Origin is not this server is refused.
        "app_kwargs": {
            "middleware": [
                Middleware(ForwardedHeaders, trusted_proxies=settings.trusted_proxies),
                Middleware(TrustedHostMiddleware, allowed_hosts=trusted_hosts(settings.host)),
                Middleware(SameOriginWrites),
                Middleware(RequestGuard, max_bytes=settings.max_request_bytes, known_functions=lambda: demo.fns,
                           uploads=lambda: needs_uploads(demo),
                           history_cap=(settings.max_history_messages, settings.max_history_bytes)),
                Middleware(LoginBackoff, first_delay_s=settings.login_backoff_s),
                Middleware(McpAuth, auth=auth, first_delay_s=settings.login_backoff_s),  # MCP signs in as the UI does
            ]
        },
        "theme": gr.themes.Soft(
            primary_hue="teal",
            # Local fonts only: no request to a font CDN.
            font=["Noto Sans CJK TC", "PingFang TC", "Microsoft JhengHei", "system-ui", "sans-serif"],
            font_mono=["Noto Sans Mono CJK TC", "ui-monospace", "monospace"],
        ),
        "css": css,
        "head": head,
    }


def warm_up(settings: Settings, question: str = "Phi 4 有多大？") -> float | None:
    """Ask the running server one grounded question over HTTP, the way a browser or
    gradio_client does, so Gradio's own first-request costs are paid before the first user.
    Returns the seconds it took, or None when it could not (the server still serves)."""
    import http.client  # noqa: PLC0415
    from urllib.parse import urlencode  # noqa: PLC0415

    host = "127.0.0.1" if not is_loopback(settings.host) else settings.host.strip("[]")
    started = time.perf_counter()
    headers = {"Content-Type": "application/json"}
    try:
        auth = parse_auth(settings.auth)
        if auth is not None:
            conn = http.client.HTTPConnection(host, settings.port, timeout=30)
            conn.request("POST", "/login", body=urlencode({"username": auth[0], "password": auth[1]}),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            cookies = [v.split(";", 1)[0] for k, v in response.getheaders() if k.lower() == "set-cookie"]
            conn.close()
            headers["Cookie"] = "; ".join(cookies)
        conn = http.client.HTTPConnection(host, settings.port, timeout=60)
        conn.request("POST", "/gradio_api/call/chat",
                     body=json.dumps({"data": [question, [], "grounded", "auto"]}), headers=headers)
        response = conn.getresponse()
        event_id = json.loads(response.read())["event_id"]
        conn.request("GET", f"/gradio_api/call/chat/{event_id}", headers=headers)
        conn.getresponse().read()
        conn.close()
    except Exception as exc:  # never fatal: the first user just pays for it
        log.warning("warm-up request failed: %s", exc)
        return None
    return time.perf_counter() - started


def serve(demo: gr.Blocks, settings: Settings, *, prevent_thread_lock: bool = False, quiet: bool = False) -> Any:
    """Launch with `launch_options`; returns what `Blocks.launch` returns."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    # uvicorn believes X-Forwarded-For/-Proto only from these addresses (its default is
    # 127.0.0.1, which let any local client pick its own address for the sign-in backoff).
    os.environ["FORWARDED_ALLOW_IPS"] = settings.trusted_proxies.strip()
    install_log_guard()
    return demo.launch(prevent_thread_lock=prevent_thread_lock, quiet=quiet, **launch_options(demo, settings))
