"""Command line: `python -m assistant {index,search,ask,chat,validate,eval,bench,models,estimate,catalog}`.

Every `Settings` field is also a global flag (`--data-dir`, `--embedder`, …), so the
environment and the command line configure the same object. Heavy modules are imported
inside the command that needs them: `search` never imports gradio or llama_cpp.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .config import Settings

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Unusable input (a bad --history file, …): the message is printed and the exit code is 2."""


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (also ASSISTANT_<NAME> environment variables)")
    for name, field in Settings.model_fields.items():
        group.add_argument(
            "--" + name.replace("_", "-"), dest=f"setting_{name}", default=None, help=field.description
        )


def _settings_from(args: argparse.Namespace) -> Settings:
    overrides = {
        key.removeprefix("setting_"): value
        for key, value in vars(args).items()
        if key.startswith("setting_") and value is not None
    }
    return Settings.from_env(**overrides)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _progress_bar(done: int, total: int) -> None:
    if not sys.stderr.isatty():
        return
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r索引中 indexing [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _build(settings: Settings):
    from .service import build_assistant  # noqa: PLC0415

    return build_assistant(settings)


# ------------------------------------------------------------------ commands


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    assistant = _build(settings)
    report = assistant.ensure_index(force=args.force, progress=_progress_bar)  # IndexError_: main says why
    if report.rebuilt:
        print(f"已重建索引 Rebuilt index ({report.reason}): {report.chunks} chunks in {report.seconds:.2f}s → {settings.data_dir}")
    else:
        print(f"索引已是最新，不需重建 Index is up to date ({report.chunks} chunks); nothing to do ({report.seconds * 1000:.0f} ms).")
    return EXIT_OK


def _clean_or_exit(text: str, settings: Settings):
    from .inputs import EmptyQuestion, clean_question  # noqa: PLC0415

    try:
        cleaned = clean_question(text, settings.max_question_chars)
    except EmptyQuestion as exc:
        print(f"錯誤 error: {exc}", file=sys.stderr)
        return None
    for notice in cleaned.notices:
        print(f"注意 notice: {notice}", file=sys.stderr)
    return cleaned


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    cleaned = _clean_or_exit(args.query, settings)
    if cleaned is None:
        return EXIT_USAGE
    assistant = _build(settings)
    results = assistant.search(cleaned.text, args.k)
    if args.json:
        _print_json({"query": cleaned.text, "results": [p.to_dict() for p in results]})
        return EXIT_OK
    if not results:
        print("沒有找到相關段落 No passages found.")
    for n, passage in enumerate(results, 1):
        snippet = passage.text.replace("\n", " ")
        print(f"[{n}] {passage.title}  ({passage.id}, score {passage.score:.4f})")
        print(f"    {snippet[:200]}{'…' if len(snippet) > 200 else ''}")
    return EXIT_OK


def _load_history(path: str | None) -> list[dict[str, str]]:
    """The turns of a `--history` file: a JSON list of {"role": "user"|"assistant", "content": text}
    (a bare string is a user turn).

    Raises:
        UsageError: the file cannot be read, is not such a list, or a turn is malformed.
    """
    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except RecursionError:
        raise UsageError(f"cannot read history {path}: the JSON is nested too deeply") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read history {path}: {exc}") from None
    if not isinstance(data, list):
        raise UsageError(f"{path} must hold a JSON list of turns ({{\"role\": \"user\", \"content\": \"...\"}})")
    turns = []
    for n, item in enumerate(data, 1):
        if isinstance(item, str):
            turns.append({"role": "user", "content": item})
        elif (isinstance(item, dict) and isinstance(item.get("content"), str)
              and item.get("role", "user") in ("user", "assistant", "system")):
            turns.append({"role": str(item.get("role", "user")), "content": item["content"]})
        else:
            raise UsageError(
                f"{path}: turn {n} is not {{\"role\": \"user\" or \"assistant\", \"content\": text}}"
            )
    return turns


def _verbose_logging(enabled: bool) -> None:
    """`--verbose`: the LLM's rendered prompt and outcome go to stderr (DEBUG)."""
    if not enabled:
        return
    import logging  # noqa: PLC0415

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(name)s] %(message)s"))
    logger = logging.getLogger("assistant.llm")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    cleaned = _clean_or_exit(args.question, settings)
    if cleaned is None:
        return EXIT_USAGE
    history = _load_history(args.history)  # UsageError (exit 2) before any work
    _verbose_logging(args.verbose)
    assistant = _build(settings)
    if args.json:
        reply = assistant.ask(cleaned.text, history=history, use_llm=not args.no_llm)
        reply.notices[:0] = cleaned.notices
        data = reply.to_dict()
        data.setdefault("llm", None)
        _print_json(data)
        return EXIT_OK
    reply = _stream_to_terminal(assistant.ask_stream(cleaned.text, history=history, use_llm=not args.no_llm))
    if reply is not None:
        _print_reply_footer(reply)
    return EXIT_OK


def display_rows(text: str, width: int) -> int:
    """Terminal rows `text` takes when printed from column 0 (wide CJK counts as 2)."""
    import unicodedata  # noqa: PLC0415

    width = max(1, width)
    rows = 0
    for line in text.split("\n"):
        columns = sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)
        rows += max(1, -(-columns // width))
    return rows


ERASE_BELOW = "\x1b[J"


def _stream_to_terminal(events, out=None, prefix: str = "") -> Any:
    """Print an answer as it streams and return the final Reply.

    The grounded answer is printed at once. While the local model writes, a terminal
    shows a status line under it (the model's draft is never shown); if the model's
    answer passes validation (a `replace` event), the grounded answer and the status line
    are erased (cursor up, erase below) and the model's answer is drawn in their place;
    otherwise only the status line goes. When the output is not a terminal, nothing is
    printed until the end, and then only the answer that stands.

    Args:
        events: `Assistant.ask_stream` events.
        out: the stream to write to (default: stdout).
        prefix: what was already printed on the answer's first line (e.g. "助手 > ").
    """
    import shutil  # noqa: PLC0415

    out = out or sys.stdout
    live = bool(getattr(out, "isatty", lambda: False)())
    shown = ""  # the answer text on screen
    status = ""  # the status line under it ("" when none is shown)
    label = ""
    answer = ""
    reply = None

    def erase() -> None:
        """Back to the answer's first row, then erase it and everything below."""
        rows = display_rows(prefix + shown, shutil.get_terminal_size().columns) + (1 if status else 0)
        out.write("\r" + (f"\x1b[{rows - 1}A" if rows > 1 else "") + ERASE_BELOW + prefix)

    for event in events:
        if event.kind == "delta":
            answer += event.text
            if live:
                out.write(event.text)
                shown += event.text
        elif event.kind == "replace":
            answer = event.text
            if live:
                erase()
                out.write(event.text)
                shown, status = event.text, ""
        elif event.kind in ("status", "progress") and live:
            label = event.text if event.kind == "status" else label
            tokens = (event.info or {}).get("tokens") if event.kind == "progress" else None
            line = f"（{label}" + (f" · {tokens} tokens" if tokens else "") + "）"
            out.write(("\r\x1b[2K" if status else "\n") + line)
            status = line
        elif event.kind == "final":
            reply = event.reply
        if live:
            out.flush()
    if live and status:
        erase()  # the status line goes; the answer that stands is drawn again in place
        out.write(shown)
    elif not live:
        out.write(answer)
    out.write("\n")
    out.flush()
    return reply


def _print_reply_footer(reply) -> None:
    for notice in reply.notices:
        print(f"※ {notice}")
    if reply.sources:
        print("\n來源 Sources:")
        for n, source in enumerate(reply.sources, 1):
            print(f"  [{n}] {source.title} ({source.id})")


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from .inputs import EmptyQuestion, clean_question  # noqa: PLC0415

    _verbose_logging(args.verbose)
    assistant = _build(settings)
    print("選型助手：輸入問題，空白行或 Ctrl-D 結束。 Type a question; empty line or Ctrl-D quits.")
    history: list[dict[str, str]] = []
    while True:
        try:
            line = input("\n你 > ")
        except (EOFError, KeyboardInterrupt):
            print()
            return EXIT_OK
        try:
            cleaned = clean_question(line, settings.max_question_chars)
        except EmptyQuestion:
            return EXIT_OK
        sys.stdout.write("助手 > ")
        reply = _stream_to_terminal(
            assistant.ask_stream(cleaned.text, history=history, use_llm=not args.no_llm), prefix="助手 > "
        )
        if reply is not None:
            _print_reply_footer(reply)
            history += [{"role": "user", "content": cleaned.text}, {"role": "assistant", "content": reply.answer}]


PUBLIC_EVAL_FILES = (  # the public set, kept in the repository (eval/public/README.md)
    Path(__file__).resolve().parents[1] / "eval" / "public" / "questions.jsonl",
    Path(__file__).resolve().parents[1] / "eval" / "public" / "questions-conversation.jsonl",
)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluation import QuestionFileError, load_questions, run_eval  # noqa: PLC0415

    paths = args.questions or [str(p) for p in PUBLIC_EVAL_FILES]
    try:
        questions = [q for path in paths for q in load_questions(Path(path))]
    except QuestionFileError as exc:
        print(f"錯誤 error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.limit:
        questions = questions[: args.limit]
    assistant = _build(settings)
    t0 = time.perf_counter()
    report = assistant.ensure_index()
    index_ms = (time.perf_counter() - t0) * 1000
    result = run_eval(assistant, questions, use_llm=not args.no_llm)
    result["summary"]["index"] = {
        "rebuilt": report.rebuilt,
        "ms": round(index_ms, 1),
        "noop_reindex_ms": round(_time_noop_reindex(assistant), 1),
    }
    if args.cold_build:
        result["summary"]["index"]["cold_build_ms"] = round(_time_cold_build(settings, assistant.embedder), 1)
    if args.json:
        _print_json(result)
        return EXIT_OK
    for row in result["results"]:
        mark = "✔" if row["hit"] else "✘"
        print(f"{mark} {row['id']:>5} [{row['kind']}] {row['question']}")
        if args.verbose:
            print(f"      answer: {row['answer'][:300]}")
            print(f"      recs: {[r['name'] for r in row['recommendations']][:5]}  sources: {[s['id'] for s in row['sources'][:3]]}")
    s = result["summary"]
    print("\n== summary ==")
    print(f"questions            {s['questions']}")
    idx = s["index"]
    line = f"index                no-op re-index {idx['noop_reindex_ms']:.0f} ms"
    if "cold_build_ms" in idx:
        line += f", cold build {idx['cold_build_ms']:.0f} ms"
    print(line)
    print(f"retrieval p50/p95    {s['retrieval_ms']['p50']:.1f} / {s['retrieval_ms']['p95']:.1f} ms")
    print(f"answer p50/p95       {s['answer_ms']['p50']:.1f} / {s['answer_ms']['p95']:.1f} ms")
    print(f"retrieval hit@3      {s['retrieval_hit_at_3']:.1%}   misses: {', '.join(s['retrieval_misses']) or '-'}")
    print(f"constraint violations {s['constraint_violations']}")
    print(f"traditional-only     {s['traditional_only_rate']:.1%}")
    kinds = "  ".join(f"{kind} {v['hit']}/{v['n']}" for kind, v in sorted(s["by_kind"].items()))
    print(f"by kind              {kinds}")
    # Last, so `| tail` shows the headline number.
    print(f"answer hit           {s['answer_hit_rate']:.1%}   misses: {', '.join(s['misses']) or '-'}")
    return EXIT_OK


def _time_noop_reindex(assistant) -> float:
    t0 = time.perf_counter()
    assistant.ensure_index()
    return (time.perf_counter() - t0) * 1000


def _time_cold_build(settings: Settings, embedder) -> float:
    """Build a fresh index in a scratch directory with the already-loaded embedder."""
    import tempfile  # noqa: PLC0415

    from .index import build_index, reset_client_cache  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as scratch:
        cold = settings.model_copy(update={"data_dir": Path(scratch)})
        t0 = time.perf_counter()
        build_index(cold, embedder)
        elapsed = (time.perf_counter() - t0) * 1000
        reset_client_cache()
    return elapsed


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Check an answer the way the live path checks the local model's answer: the grounded
    reply for the question (and history), the answer converted to zh-TW, then `validate`."""
    from .llm.validate import Grounding, convert_answer, validate  # noqa: PLC0415

    cleaned = _clean_or_exit(args.question, settings)
    if cleaned is None:
        return EXIT_USAGE
    try:
        text = Path(args.answer_file).read_text(encoding="utf-8") if args.answer_file != "-" else sys.stdin.read()
    except OSError as exc:
        print(f"錯誤 error: cannot read {args.answer_file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    history = _load_history(args.history)
    assistant = _build(settings)
    reply = assistant.grounded(cleaned.text, history)
    result = validate(convert_answer(text), Grounding.from_reply(reply, history), assistant.catalog)
    if args.json:
        _print_json({"accepted": result.ok, "problems": result.problems})
        return EXIT_OK
    if result.ok:
        print("通過 accepted")
    else:
        print("不通過 rejected:")
        for problem in result.problems:
            print(f"  - {problem}")
    return EXIT_OK if result.ok else EXIT_ERROR


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from .bench import run_bench  # noqa: PLC0415

    return run_bench(settings, as_json=args.json)


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from . import local_models as models  # noqa: PLC0415

    if args.models_command == "pull":
        return models.cli_pull(settings, args.repo, args.file)
    return models.cli_list(settings, as_json=args.json)


def cmd_estimate(args: argparse.Namespace, settings: Settings) -> int:
    from . import estimate  # noqa: PLC0415

    if args.list_hardware:
        table = estimate.presets_table()
        if args.json:
            _print_json(table)
        else:
            for row in table:
                print(f"{row['name']:28s} {row['memory_kind']:8s} {row['memory_gb']:>6g} GB {row['bandwidth_gbs']:>7g} GB/s")
        return EXIT_OK
    try:
        data = estimate.run(args, settings.catalog_path)
    except ValueError as exc:
        print(f"錯誤 error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        _print_json(data)
    else:
        print(estimate.format_text(data))
    return EXIT_OK


def cmd_catalog(args: argparse.Namespace, settings: Settings) -> int:
    from . import catalog_tools  # noqa: PLC0415

    return catalog_tools.run(args, settings.catalog_path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m assistant", description="選型助手: choose an open-weight LLM, grounded in a knowledge base."
    )
    _add_settings_flags(parser)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build the index if knowledge/ or settings changed")
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="hybrid search over the knowledge base")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-llm", action="store_true", help="grounded answer only, never the local model")
    p.add_argument("--history", help="JSON list of earlier turns ({role, content})")
    p.add_argument("-v", "--verbose", action="store_true", help="log the LLM's rendered prompt to stderr")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="interactive question loop with memory")
    p.add_argument("--no-llm", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true", help="log the LLM's rendered prompt to stderr")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("validate", help="check an answer as the local model's answers are checked")
    p.add_argument("--question", required=True, help="the question the answer is for")
    p.add_argument("--answer-file", required=True, help="a UTF-8 text file with the answer ('-': stdin)")
    p.add_argument("--history", help="JSON list of earlier turns ({role, content})")
    p.add_argument("--json", action="store_true", help='print {"accepted": …, "problems": […]}')
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("eval", help="run and score question files")
    p.add_argument(
        "--questions", action="append", default=None,
        help="a question file (JSONL); repeat for several; default: both public files in eval/public",
    )
    p.add_argument("--no-llm", action="store_true")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument(
        "--no-cold-build", dest="cold_build", action="store_false", help="skip timing a cold index build in a scratch dir"
    )
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="speed benchmark: LLM overhead, TTFT, grounded latency, cold start")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("models", help="list or download GGUF models")
    msub = p.add_subparsers(dest="models_command", required=True)
    pl = msub.add_parser("list")
    pl.add_argument("--json", action="store_true")
    pp = msub.add_parser("pull")
    pp.add_argument("repo")
    pp.add_argument("file")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("estimate", help="will a model size run on a machine, where, and how fast")
    from .estimate import add_arguments  # noqa: PLC0415

    add_arguments(p)
    p.set_defaults(func=cmd_estimate)

    p = sub.add_parser("catalog", help="draft a catalog entry from the Hugging Face Hub, or check the catalog")
    from .catalog_tools import add_arguments as add_catalog_arguments  # noqa: PLC0415

    add_catalog_arguments(p)
    p.set_defaults(func=cmd_catalog)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings_from(args)
    except Exception as exc:
        print(f"錯誤 error: invalid settings: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from .index import IndexError_, disk_full  # noqa: PLC0415
    from .knowledge import CatalogError  # noqa: PLC0415

    try:
        return int(args.func(args, settings))
    except BrokenPipeError:  # `ask … | head`: the reader left; nothing more to say
        import os  # noqa: PLC0415

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes stdout
        return 0
    except UsageError as exc:
        print(f"錯誤 error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (IndexError_, CatalogError) as exc:  # locked, disk full, Chroma server down, damaged
        print(f"錯誤 error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        if not disk_full(exc):
            raise
        print(f"錯誤 error: 磁碟空間不足（{exc.filename or settings.data_dir}）；請釋出空間後再試。"
              f"Not enough disk space ({exc.filename or settings.data_dir}); free some space and try again.",
              file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
