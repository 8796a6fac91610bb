"""The object graph: `build_assistant(settings) -> Assistant`.

Everything is built here by constructor injection; nothing happens at import time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .config import Settings
from .embeddings import Embedder, make_embedder
from .index import BuildReport, Progress, build_index, staleness
from .knowledge import Catalog, load_catalog
from .retrieval import HybridRetriever, Links, Passage

if TYPE_CHECKING:
    from .answer.lookup import SentenceIndex
    from .compose import Reply
    from .llm import LLMManager
    from .llm.backends import Generator

log = logging.getLogger(__name__)

DEGRADED_ZH = "向量資料庫（Chroma 伺服器）暫時連不上，這次只用關鍵字檢索；連線恢復後會自動改回完整檢索。"
DEGRADED_EN = (
    "The vector database (the Chroma server) cannot be reached, so this answer used keyword search only; "
    "full search resumes when it is back."
)


@dataclass
class Event:
    """One streaming step of `Assistant.ask_stream`.

    kinds, in the order they come:

    - `delta`: text to append (the grounded answer, whole, at once);
    - `status`: a line to show while the local model writes (e.g. a spinner's label);
    - `progress`: the local model is still writing; `info` = {"tokens", "elapsed_s"}; no
      text (at most one every `PROGRESS_INTERVAL_S`);
    - `replace`: `text` replaces the answer on screen (the model's answer, validated);
    - `final`: the end, with the complete `Reply` (its `notices` may have grown).
    """

    kind: str
    text: str = ""
    reply: Reply | None = None
    info: dict[str, Any] | None = None


PROGRESS_INTERVAL_S = 0.5
"""At most one `progress` event per this many seconds while the local model writes."""


class Assistant:
    """Knowledge, retrieval and (later) answering behind one object."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        embedder_factory: Callable[[], Embedder],
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None
        self._embedder_lock = threading.Lock()
        self._index_lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = self._embedder_factory()
            return self._embedder

    # ---------------------------------------------------------------- index
    def index_staleness(self) -> str | None:
        return staleness(self.settings, self.embedder)

    def ensure_index(self, force: bool = False, progress: Progress | None = None, wait_s: float = 0.0) -> BuildReport:
        """Build the index when stale (or forced). `wait_s`: how long to wait for another
        process that is writing it (IndexLocked after that)."""
        with self._index_lock:
            report = build_index(self.settings, self.embedder, force=force, progress=progress, wait_s=wait_s)
            if report.rebuilt:
                log.info("index rebuilt (%s): %d chunks in %.1fs", report.reason, report.chunks, report.seconds)
            return report

    # ---------------------------------------------------------------- retrieval
    def link(self, text: str) -> Links:
        """What a query names, for the retriever's entity boost.

        Returns (model ids incl. closed-model keys, family ids, models matching the asked
        tasks). A named model also brings its family; an avoided family is not boosted.
        """
        from .constraints import parse_constraints  # noqa: PLC0415
        from .index import closed_model_key  # noqa: PLC0415

        c = parse_constraints(text, self.catalog)
        models = [*c.mentioned_models, *(closed_model_key(n) for n in c.mentioned_closed)]
        families = [*c.mentioned_families, *(self.catalog.by_id[m].family for m in c.mentioned_models)]
        families = [f for f in dict.fromkeys(families) if f not in c.avoid_families]
        task_models: list[str] = []
        if c.tasks and not c.mentioned_models:
            # Models for the asked task that could run at all on the stated memory (about 0.6 GB per
            # billion parameters at 4 bits): a 230B coding model is no source for a 24 GB card.
            task_models = [
                m.id
                for m in self.catalog.models
                if any(t in m.strengths for t in c.tasks)
                and m.family not in c.avoid_families
                and m.country not in c.avoid_countries
                and not (c.commercial_required and m.commercial_use == "no")
                and (c.memory_gb is None or min(v.params_total_b for v in m.sizes) * 0.6 <= c.memory_gb * 1.1)
            ]
        hardware = [c.hardware_name] if c.hardware_name else []
        return Links(models, families, task_models, list(c.avoid_families), hardware)

    @cached_property
    def retriever(self) -> HybridRetriever:
        # The embedder is passed as a factory: it loads when a question is first embedded,
        # not when the retriever is built.
        return HybridRetriever(
            self.settings, lambda: self.embedder, linker=self.link, ensure_index=self.ensure_index
        )

    def warm(self) -> None:
        """Load everything a grounded answer needs (index, tokenizer, embedder, the answer
        modules) by answering one question, so the first user's question is as fast as the tenth."""
        self.retriever.warm()
        self.grounded("Phi 4 有多大？可以商用嗎？")
        self.grounded("Which models fit in 16 GB?")

    def search(self, query: str, k: int | None = None) -> list[Passage]:
        return self.retriever.search(query, k or self.settings.top_k)

    # ---------------------------------------------------------------- answering
    @cached_property
    def sentences(self) -> SentenceIndex:
        """The article's sentence index for lookups (built on first use)."""
        from .answer.lookup import SentenceIndex  # noqa: PLC0415

        return SentenceIndex(self.catalog, self.retriever.chunks, self.embedder)

    def grounded(
        self, question: str, history: list[dict[str, str]] | None = None, language: str | None = None
    ) -> Reply:
        """The grounded answer for a question (no language model). Never raises on odd text."""
        from .compose import answer_language, compose, conversation_state, plan_in_state  # noqa: PLC0415
        from .inputs import clean_question  # noqa: PLC0415

        t0 = time.perf_counter()
        zh_lang = language or answer_language(question)
        cleaned = clean_question(question, self.settings.max_question_chars, lang_zh=zh_lang != "en")
        history = [t for t in (history or []) if isinstance(t, dict)][-12:]
        chunks = {c.id: c for c in self.retriever.chunks}
        state = conversation_state(self.catalog, history, zh_lang, chunks, self.sentences) if history else None
        # A follow-up ("那它可以商用嗎？") searches with the subjects it resolved to.
        plan = plan_in_state(cleaned.text, self.catalog, state, zh_lang, self.sentences)
        query = cleaned.text
        if plan.reference:
            query = " ".join(s.name for s in plan.subjects) + " " + query
        retrieved = self.search(query, self.settings.top_k)
        t1 = time.perf_counter()
        reply = compose(
            cleaned.text, self.catalog, retrieved, chunks, history, language, self.settings.top_k,
            self.retriever.idf, self.sentences, state, plan if language in (None, zh_lang) else None,
        )
        reply.notices[:0] = cleaned.notices
        if self.retriever.degraded is not None:  # the Chroma server is down: keyword search only
            reply.notices.append(DEGRADED_EN if reply.language == "en" else DEGRADED_ZH)
        reply.timings_ms = {"retrieval": (t1 - t0) * 1000, "compose": (time.perf_counter() - t1) * 1000}
        reply.timings_ms["total"] = (time.perf_counter() - t0) * 1000
        return reply

    def ask(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        use_llm: bool = True,
        language: str | None = None,
    ) -> Reply:
        final: Reply | None = None
        for event in self.ask_stream(question, history, use_llm, language):
            if event.kind == "final":
                final = event.reply
        assert final is not None
        return final

    def ask_stream(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        use_llm: bool = True,
        language: str | None = None,
    ) -> Iterator[Event]:
        """Stream an answer: the grounded answer at once, then (with a local model) the
        model's answer when, and only when, it has passed validation.

        Events: `delta` (the whole grounded answer, first), then with `use_llm` and a
        chat-capable model `status` (the model is writing), `progress` ticks (no text), and
        `replace` (the model's validated answer) when it stands; always one `final` with the
        Reply last. The model's text is never sent before it is validated: a rejected, cut
        off or late answer is never on screen, and the grounded answer simply stays (the
        Reply's notices say why, a timeout only the first time). Closing this iterator
        early cancels the generation.
        """
        reply = self.grounded(question, history, language)
        grounded_text = reply.answer
        reply.grounded_answer = grounded_text
        # One delta for the whole grounded answer: every streamed update costs the web server
        # a full chat re-render, and the answer is ready at once anyway.
        yield Event("delta", grounded_text)
        if use_llm and (llm := self._llm_manager()).eligible(reply):  # --no-llm never loads the LLM layer
            from .llm.backends import GenerationError, ModelLoading  # noqa: PLC0415

            status = llm.status()  # never loads, never waits for a load
            run = None
            if not status.available:
                reply.notices.append(status.reason(reply.language))
                _set_llm_info(reply, {"outcome": "unavailable", "notice_en": status.reason_en})
            else:
                try:
                    run = llm.start(reply, [t for t in (history or []) if isinstance(t, dict)][-12:])
                except GenerationError as exc:
                    note = exc.message_en if reply.language == "en" else exc.message_zh
                    if not isinstance(exc, ModelLoading):
                        note += " Showing the retrieval-based answer." if reply.language == "en" else " 改用檢索式回答。"
                    reply.notices.append(note)
                    outcome = "loading" if isinstance(exc, ModelLoading) else "error"
                    _set_llm_info(reply, {"outcome": outcome, "notice_en": exc.message_en})
            if run is not None:
                yield Event("status", "正在用本機模型改寫回答…" if reply.language != "en" else "The local model is rewording the answer…")
                last = time.monotonic()
                try:
                    for tick in run:  # the draft stays inside the run: ticks carry no text
                        now = time.monotonic()
                        if now - last >= PROGRESS_INTERVAL_S:
                            last = now
                            yield Event("progress", info={"tokens": tick.tokens, "elapsed_s": round(tick.elapsed_s, 2)})
                finally:
                    run.close()  # the client went away or we are done: stop generating
                result = run.result
                assert result is not None
                # Only a finished answer is validated; errors, timeouts and cut-off
                # answers carry a notice that says what happened, not "problems".
                reply.validation = result.validation.to_dict() if result.validation else None
                _set_llm_info(reply, result.to_dict())
                reply.timings_ms["llm"] = float(result.stats.get("total_ms") or 0.0)
                if result.stats.get("ttft_ms") is not None:
                    reply.timings_ms["llm_ttft"] = float(result.stats["ttft_ms"])
                reply.timings_ms["total"] = reply.timings_ms.get("total", 0.0) + reply.timings_ms["llm"]
                if result.ok:
                    reply.answer = result.text
                    reply.mode = "llm"
                    yield Event("replace", result.text)
                    yield Event("final", reply.answer, reply)
                    return
                notice = result.notice(reply.language)
                if notice:
                    reply.notices.append(notice)
                reply.mode = "grounded"
        yield Event("final", reply.answer, reply)

    # ---------------------------------------------------------------- local model
    _llm: LLMManager | None = None  # set by build_assistant; created on demand otherwise

    def _llm_manager(self) -> LLMManager:
        if self._llm is None:
            from .llm import LLMManager  # noqa: PLC0415 (a grounded-only process never imports it)

            self._llm = LLMManager(self.settings, self.catalog)
        return self._llm

    def warm_llm(self) -> bool:
        """Load the local model now (e.g. in a background thread at start-up) so the first
        question does not pay for it. Returns whether a usable model was loaded; never raises.

        While it loads, questions are answered grounded at once (with a notice) and
        `llm_status()` answers immediately with `loading: True`."""
        manager = self._llm_manager()
        try:
            if not manager.status().available:
                return False
            generator = manager.generator()
            getattr(generator, "llama", None)  # the in-process adapter loads llama.cpp on first access
            getattr(generator, "n_ctx", None)  # an endpoint is asked for its context window
            return True
        except Exception as exc:  # start-up must survive a broken model; answers stay grounded
            log.warning("local model could not be loaded: %s", exc)
            return False

    def llm_status(self) -> dict[str, Any]:
        """Whether LLM answers are available: {available, model, path, chat_template,
        reason_zh, reason_en, backend, n_ctx, expected_wait_s, loading, too_slow, timeout_s}.

        `too_slow` is true while the local model's last answer ran past the deadline
        `timeout_s` (show it in a status line; answers announce it only once).

        `n_ctx` is the context window answers are budgeted against; `expected_wait_s` an
        estimate in seconds of one answer now (including the rest of a load in progress);
        both None when unknown. Never loads the model and never waits for a load."""
        return self._llm_manager().status().to_dict()

    def list_models(self) -> list[dict[str, Any]]:
        """The GGUF models the assistant can see, the active one marked (`models list --json`)."""
        return self._llm_manager().list_models()


def _set_llm_info(reply: Reply, info: dict[str, Any]) -> None:
    """What the LLM did for this reply (`ask --json` shows it under "llm"): outcome,
    finish reason, prompt tokens, rejected text, validation problems."""
    reply.llm = info


def build_assistant(
    settings: Settings,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
    llm: LLMManager | None = None,
) -> Assistant:
    """Build the assistant from settings. The embedder and the language model load lazily
    on first use.

    Args:
        settings: the settings.
        embedder: an embedder to use instead of `settings.embedder` (tests).
        generator: a text generator to use instead of the configured model (tests).
        llm: a fully built LLM manager (tests and the benchmark); overrides `generator`.
    """
    catalog = load_catalog(settings.catalog_path)
    cache = settings.data_dir / "cache"
    factory = (lambda: embedder) if embedder is not None else (lambda: make_embedder(settings.embedder, cache))
    assistant = Assistant(settings, catalog, factory)
    if llm is not None:
        assistant._llm = llm
    elif generator is not None:
        from .llm import LLMManager  # noqa: PLC0415

        assistant._llm = LLMManager(settings, catalog, generator)
    # else: created on first use by `_llm_manager`, so `ask --no-llm` never loads the LLM layer
    return assistant
