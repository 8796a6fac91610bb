"""Web UI entry point: `python app.py [--host 127.0.0.1] [--port 7860]`.

Thin on purpose: settings, then `build_assistant`, then `webapp.build_page`, then launch.
The index is built (with progress) before the server starts, waiting for another process
that is building it; with a Chroma server that is down the app starts anyway and answers
with keyword search until it is back. A local language model, if any, loads in a
background thread so the page answers in grounded mode meanwhile.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.service import Assistant

# Before anything can import gradio: no usage analytics, no share link from the environment.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.pop("GRADIO_SHARE", None)
# Gradio asks matplotlib for its backend around every event; with none set, that imports
# pyplot and probes for a GUI. The app draws its charts with Agg, headless.
os.environ.setdefault("MPLBACKEND", "Agg")

EXIT_REFUSED = 2
EXIT_ERROR = 1
INDEX_WAIT_S = 600.0  # another process building the index: wait this long for it at start


def _say(message: str) -> None:
    print(f"[選型助手] {message}", flush=True)


def _warm_language_model(assistant: Assistant) -> None:
    """Load the local model off the main thread; the UI serves grounded answers meanwhile."""
    started = time.perf_counter()
    if assistant.warm_llm():
        status = assistant.llm_status()
        _say(f"語言模型已就緒：{status.get('model')}（{time.perf_counter() - started:.1f}s）")
    else:
        _say(f"只用知識庫回答：{assistant.llm_status().get('reason_zh') or '沒有可用的語言模型'}")


def main(argv: list[str] | None = None) -> int:
    from assistant.config import Settings

    defaults = Settings.from_env()
    parser = argparse.ArgumentParser(description="選型助手 web UI")
    parser.add_argument(
        "--host", default=None, help=f"bind address (default {defaults.host}; ASSISTANT_HOST)"
    )
    parser.add_argument(
        "--port", type=int, default=None, help=f"port (default {defaults.port}; ASSISTANT_PORT)"
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env(host=args.host, port=args.port)

    from assistant.server import gradio_cache_folder, install_output_guard, is_loopback, parse_auth

    # Whatever a request makes Gradio print, the log stays bounded (one write ≤ 2,000 characters).
    install_output_guard()
    # Gradio's file cache is this process's own folder (removed at exit): the server never
    # serves files another Gradio process put in the shared /tmp/gradio.
    os.environ["GRADIO_TEMP_DIR"] = str(gradio_cache_folder())

    try:
        auth = parse_auth(settings.auth)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if not is_loopback(settings.host) and auth is None:
        print(
            f"error: refusing to listen on {settings.host} without a password: anyone on the network could use it.\n"
            "       Set ASSISTANT_AUTH=user:password to allow it, or use --host 127.0.0.1 (the default).",
            file=sys.stderr,
        )
        return EXIT_REFUSED

    from assistant.index import ChromaUnavailable, IndexError_
    from assistant.server import serve, warm_up
    from assistant.service import build_assistant
    from assistant.webapp import build_page

    _say("載入型錄…")
    assistant = build_assistant(settings)
    _say(f"檢查索引（{settings.chroma_url or settings.data_dir}）…")
    try:
        report = assistant.ensure_index(
            progress=lambda done, total: _say(f"  建立索引 {done}/{total}"), wait_s=INDEX_WAIT_S
        )
    except ChromaUnavailable as exc:
        _say(f"Chroma 伺服器連不上（{exc}）：先只用關鍵字檢索回答，伺服器恢復後自動改回完整檢索。")
    except IndexError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    else:
        _say(f"索引{'已重建' if report.rebuilt else '已是最新'}：{report.chunks} 段（{report.seconds:.1f}s）")
    started = time.perf_counter()
    assistant.warm()  # index, tokenizer, embedder and answer modules: the first question is as fast as the tenth
    _say(f"檢索已就緒（{time.perf_counter() - started:.1f}s）")
    from assistant.ui import llm_status

    status = llm_status(assistant)
    if status.get("available"):
        _say(f"語言模型 {status.get('model')} 在背景載入；載入完成前，網頁可用知識庫模式（grounded）回答。")
        threading.Thread(target=_warm_language_model, args=(assistant,), name="warm-llm", daemon=True).start()
    else:
        _say(f"語言模型：{status.get('model') or '無'}；{status.get('reason_zh') or '只用知識庫回答'}")
    # SIGTERM (systemd, docker stop, a test) exits through the normal path, so the process's
    # export and cache folders are removed at exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    demo = build_page(assistant, settings)
    _say(f"網頁介面：http://{settings.host}:{settings.port}  （Ctrl+C 結束）")
    serve(demo, settings, quiet=True, prevent_thread_lock=True)
    seconds = warm_up(settings)  # Gradio's first-request costs, paid before the first user
    if seconds is not None:
        _say(f"暖機完成（{seconds:.1f}s）：第一個問題和第十個一樣快。")
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
