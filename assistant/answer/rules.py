"""The intent of a question: an ordered chain of small named rules.

Each rule looks at the `RuleContext` (the question's `Reading`, the follow-up `Resolution`,
the conversation) and either returns `(intent, why)` or `None`. The first rule that fires
decides; `Plan.trace` records every rule tried, so `ask --json` shows which rule fired and
why. Rules are ordered most specific first. A rule never names a model or a wording: the
words are cue groups in `knowledge/vocabulary/`, the names come from the catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..knowledge import Catalog
from ..vocabulary import vocabulary
from .conversation import ConversationState
from .read import Reading, claim_holds
from .references import Resolution

STRONG_LOOKUP = 0.35
"""A which-question whose best article sentence scores this high is answered by lookup,
even when it names another model ("哪個模型只有 355B 卻能略勝 Kimi K2？")."""


@dataclass
class RuleContext:
    reading: Reading
    resolution: Resolution
    state: ConversationState | None
    catalog: Catalog
    injection: bool
    lookup: Callable[..., list[Any]] | None = None
    lookup_hit: Any = None

    @property
    def models(self):
        return [s for s in self.resolution.subjects if s.kind == "model"]

    @property
    def catalog_subjects(self):
        return [s for s in self.resolution.subjects if s.kind in ("model", "family")]

    @property
    def families(self):
        return [s for s in self.resolution.subjects if s.kind == "family"]

    @property
    def closed(self):
        return [s for s in self.resolution.subjects if s.kind == "closed"]

    @property
    def unknown(self) -> list[str]:
        return [] if self.resolution.reference else self.reading.unknown

    def flag(self, name: str) -> bool:
        return self.reading.flag(name)

    @property
    def c(self):
        return self.resolution.constraints

    @property
    def in_conversation(self) -> bool:
        return self.state is not None and self.state.turns > 0


Rule = Callable[[RuleContext], "tuple[str, str] | None"]
FACT_ATTRIBUTES = frozenset({"vendor", "country", "licence", "commercial", "base", "released", "chinese", "weakness", "languages",
                             "context", "modalities"})
"""Attributes that make a question about named models a fact question, even with two names
("r1-1776 是誰做的？跟 R1 差在哪")."""
RULES: list[Rule] = []


def rule(func: Rule) -> Rule:
    RULES.append(func)
    return func


def decide(ctx: RuleContext) -> tuple[str, str, list[tuple[str, bool, str]]]:
    """(intent, why, trace): the first rule that fires, and every rule tried."""
    trace: list[tuple[str, bool, str]] = []
    for candidate in RULES:
        result = candidate(ctx)
        if result is not None:
            trace.append((candidate.__name__, True, result[1]))
            return result[0], result[1], trace
        trace.append((candidate.__name__, False, ""))
    return "recommend", "default", trace


# ---------------------------------------------------------------- input that is not a question


@rule
def nonsense(ctx: RuleContext):
    """Emoji, markup or letters that make no known word: say what the assistant answers."""
    if ctx.reading.nonsense and not ctx.catalog_subjects:
        return "nonsense", "no words the assistant knows"
    return None


@rule
def greeting(ctx: RuleContext):
    """A greeting or a thank-you with nothing else: say what the assistant answers."""
    if (ctx.flag("greeting") or ctx.flag("acknowledge")) and not ctx.catalog_subjects and not ctx.c.stated:
        return "scope", "greeting or acknowledgement"
    return None


@rule
def dangling_reference(ctx: RuleContext):
    """「那它呢？」 with no earlier turn and no name: say there is nothing to refer to."""
    if not ctx.in_conversation and (ctx.flag("pronoun") or ctx.reading.ordinal is not None) and not ctx.resolution.subjects \
            and (not ctx.c.stated or ((ctx.flag("yes_no") or ctx.reading.attributes) and not ctx.c.has_hardware() and not ctx.c.licence_ids)) \
            and not ctx.flag("which") and not ctx.flag("plural") \
            and not ctx.reading.unknown:
        return "no_context", "a reference with no earlier turn"
    return None


@rule
def follow_up(ctx: RuleContext):
    """A follow-up that re-runs the last request with a change, or changes nothing."""
    if ctx.resolution.intent and not (ctx.reading.unknown and not ctx.reading.subjects):
        return ctx.resolution.intent, f"follow-up ({ctx.resolution.reference})"
    return None


# ---------------------------------------------------------------- scope


@rule
def other_media(ctx: RuleContext):
    """Image, video or music generation is not a language-model question."""
    if ctx.flag("other_media") and not ctx.catalog_subjects and not ctx.flag("chat_words"):
        return "out_of_scope", "other generative media"
    return None


@rule
def buying_hardware(ctx: RuleContext):
    """Which laptop or GPU to buy is not a model question."""
    if ctx.flag("buy_hardware") and not ctx.catalog_subjects and not ctx.flag("llm_words"):
        return "out_of_scope", "hardware purchase"
    return None


def in_domain(ctx: RuleContext) -> bool:
    """Whether the question is about language models at all (or continues a conversation that is)."""
    reading = ctx.reading
    c = reading.constraints  # the turn's own words: a condition inherited from earlier turns says nothing about this one
    followup = ctx.in_conversation and (ctx.flag("followup") or ctx.resolution.reference is not None)
    own_task = bool(c.tasks) and not (ctx.flag("how_to") and not ctx.flag("run_words"))  # "how do I port this code?" is no model question
    return bool(
        ctx.resolution.subjects or followup or reading.rank_field or ctx.flag("llm_words") or own_task
        or c.licence_ids or c.commercial_required or c.noncommercial_ok or c.max_params_b or c.min_context_tokens
        or c.longest_context or ctx.flag("strongest") and ctx.flag("which")
        or (ctx.flag("run_words") and (c.memory_gb is not None or c.device))
        or (c.memory_gb is not None and ctx.flag("owned"))
        or any(_model_shaped(name) for name in ctx.unknown)  # "Is InternLM 3 good?": a name the catalog lacks
    )


def _model_shaped(name: str) -> bool:
    """A name that looks like a model's: letters and digits ("Yi-34B", "InternLM3"), or a capital inside a word ("InternLM")."""
    letters = [c for c in name if c.isalpha()]
    return len(letters) >= 2 and (any(c.isdigit() for c in name) or any(a.islower() and b.isupper() for a, b in zip(name, name[1:], strict=False)))


@rule
def out_of_domain(ctx: RuleContext):
    """Nothing about language models: out of scope (a rules-override attempt is refused)."""
    if not in_domain(ctx):
        return ("scope" if ctx.injection else "out_of_scope"), "no language-model subject"
    return None


# ---------------------------------------------------------------- names the catalog does not hold


@rule
def only_claim(ctx: RuleContext):
    """"是不是只剩 Qwen 可以選？", "Is Phi-4 the only MIT model that fits?": check it against everything that fits."""
    if ctx.flag("only_claim") and ctx.catalog_subjects and not ctx.flag("compare"):
        return "only", "a named model taken to be the only choice"
    return None


@rule
def strong_lookup(ctx: RuleContext):
    """A which-question an article sentence answers strongly (about something other than its subject)."""
    if ctx.lookup_hit is not None:
        return "lookup", "which-question answered by an article sentence"
    return None


@rule
def unknown_only(ctx: RuleContext):
    """Only names the catalog does not hold: say so, never answer about a sibling."""
    if ctx.unknown and not ctx.models:
        return "unknown_model", "name not in the catalog"
    return None


@rule
def unknown_in_comparison(ctx: RuleContext):
    """One of the compared or asked-about names is not in the catalog."""
    # "Qwen3.5-14B 的 context 多長？": a size (or version) of a named model that the catalog lacks.
    unknown_size = any(u.lower().startswith(m.name.lower() + " ") for u in ctx.unknown for m in ctx.models)
    if ctx.unknown and (ctx.flag("compare") or ctx.flag("yes_no") or unknown_size):
        return "unknown_model", "one of the names is not in the catalog"
    return None


@rule
def closed_as_reference(ctx: RuleContext):
    """A closed model named as the benchmark for an open alternative: recommend, with a note."""
    if ctx.closed and not ctx.catalog_subjects and (ctx.flag("recommend") or ctx.c.hard or ctx.c.tasks or ctx.flag("which")):
        return "recommend", "closed model named for comparison"
    return None


@rule
def closed_only(ctx: RuleContext):
    """Only closed models: say they are not open-weight."""
    if ctx.closed and not ctx.catalog_subjects:
        return "closed", "closed model"
    return None


# ---------------------------------------------------------------- about named models


@rule
def why_not(ctx: RuleContext):
    """"Why not X?": X against the request (failed constraint, or ranked lower and why)."""
    if ctx.flag("why_not") and ctx.catalog_subjects:
        return "why_not", "why-not wording"
    return None


@rule
def derivatives(ctx: RuleContext):
    """"Which models are fine-tuned from Qwen3?": the catalog's models built on the named one."""
    if ctx.flag("derivatives") and ctx.catalog_subjects and not ctx.flag("compare"):
        return "derivatives", "which models are built on a named one"
    return None


@rule
def diff(ctx: RuleContext):
    """"X 跟 Y 差在哪？值得換嗎？": what changed between two releases (or a release and its predecessor)."""
    models = {s.id for s in ctx.models}
    one_with_history = len(models) == 1 and len(ctx.catalog_subjects) == 1 and (
        ctx.catalog.by_id[next(iter(models))].supersedes or any(next(iter(models)) in m.supersedes for m in ctx.catalog.models))
    named_sizes = len({(s.id, s.variant) for s in ctx.models}) >= 2
    if ctx.flag("diff") and (len(models) >= 2 or named_sizes or one_with_history) and len(ctx.catalog_subjects) <= 2 \
            and not (set(ctx.resolution.attributes) & FACT_ATTRIBUTES - {"size", "context", "modalities", "licence", "commercial", "released"}):
        return "diff", "what changed between two releases"
    return None


@rule
def claim(ctx: RuleContext):
    """A point taken for granted ("對吧", 「不是…嗎」): confirm it, or correct it first."""
    claims = ctx.reading.claims
    if claims and ctx.catalog_subjects:
        wrong = any(not claim_holds(c, ctx.catalog) for c in claims)
        return ("false_premise" if wrong else "fact"), "claim to verify"
    return None


@rule
def strongest(ctx: RuleContext):
    """"Which is the best / strongest?": rank by capability (with any stated needs)."""
    if ctx.flag("strongest") and len(ctx.models) != 1 and not (len(ctx.catalog_subjects) >= 2 and ctx.flag("compare")):
        if ctx.reading.rank_field in (None, "params_total") or not ctx.flag("superlative"):
            return "recommend", "strongest: rank by capability"
    return None


@rule
def newest(ctx: RuleContext):
    """"What's new / the latest": answer from release dates, with the catalog's cut-off."""
    # "the best 3, newest stuff please": best first (with a recency bound), not a release list.
    best_wanted = ctx.flag("strongest") or ctx.reading.count is not None
    if ctx.flag("newest") and not best_wanted and not ctx.models and (ctx.reading.rank_field in (None, "released")) and not ctx.flag("compare"):
        if ctx.flag("which") or ctx.flag("plural") or ctx.flag("superlative") or ctx.flag("recommend") or ctx.reading.short or ctx.families:
            return "newest", "latest releases"
    return None


@rule
def rank(ctx: RuleContext):
    """A superlative over a catalog field, across the catalog, a family, or several models."""
    best_wanted = ctx.flag("strongest") or ctx.reading.count is not None
    if ctx.flag("superlative") and ctx.reading.rank_field and len(ctx.models) != 1 \
            and not (best_wanted and ctx.reading.rank_field == "released"):  # "best 3, newest stuff": best, recent
        return "rank", "superlative over a catalog field"
    return None


@rule
def compare(ctx: RuleContext):
    """Two or more named models: compare them, ending with a verdict for the stated need."""
    facts_asked = set(ctx.resolution.attributes) & FACT_ATTRIBUTES
    choosing = ctx.flag("recommend") or ctx.c.hard or ctx.c.tasks or ctx.c.commercial_required
    licence_choice = bool(facts_asked) and facts_asked <= {"licence", "commercial"} and (ctx.flag("which") or ctx.flag("same"))  # "which has the freer licence?", "same terms?"
    if len(ctx.catalog_subjects) >= 2 and ctx.models and (choosing or not facts_asked or licence_choice) and (
        ctx.flag("compare") or ctx.flag("which") or ctx.flag("recommend") or licence_choice
    ):
        return "compare", "two or more subjects"
    if len(ctx.catalog_subjects) == 1 and ctx.models and ctx.flag("versions") and not facts_asked and ctx.resolution.reference is None \
            and not ctx.flag("superlative"):
        model = ctx.catalog.by_id[ctx.models[0].id]
        if len(model.sizes) > 1 or model.supersedes or any(model.id in m.supersedes for m in ctx.catalog.models):
            return "compare", "one name, several versions"
    return None


def _other_question(ctx: RuleContext) -> bool:
    """A follow-up that asks something else (「它可以拿去做要收費的產品嗎？」) on hardware stated earlier: not a fit question."""
    own = set(ctx.reading.attributes) - {"memory", "speed", "size"}
    return bool(own) and not ctx.reading.constraints.has_hardware() and not ctx.flag("run_words")


@rule
def family_fit(ctx: RuleContext):
    """A family on stated hardware: which of its sizes run."""
    choosing = ctx.flag("recommend") or (ctx.flag("which") and not ctx.flag("plural"))  # 「…能跑的，推薦哪個」 picks one
    if ctx.families and not ctx.models and ctx.resolution.constraints.has_hardware() and (ctx.flag("yes_no") or ctx.flag("run_words")) \
            and not choosing and not _other_question(ctx):
        return "fit", "named family and hardware"
    return None


@rule
def model_fit(ctx: RuleContext):
    """A named model on stated hardware, or its memory / speed: fit and speed."""
    if not ctx.models:
        return None
    stated_here = ctx.reading.constraints.has_hardware()
    refit = ctx.resolution.reference is not None and ctx.state is not None and ctx.state.intent == "fit"
    attributes = set(ctx.resolution.attributes)
    asks_fit = stated_here or not (attributes - {"memory", "speed"})
    if (asks_fit and ctx.c.has_hardware() and (ctx.flag("yes_no") or ctx.flag("run_words") or refit)) or attributes & {"memory", "speed"}:
        return "fit", "named model and hardware or memory"
    return None


@rule
def lookup_in_subject(ctx: RuleContext):
    """"Which (Meta) model did X?": the article's sentence, within the named family."""
    if ctx.flag("which") and (ctx.flag("lookup_verbs") or ctx.flag("naming")) and not ctx.flag("plural") and ctx.families and not ctx.models:
        return "lookup", "which-question about a trait within a family"
    return None


@rule
def which_model_for_task(ctx: RuleContext):
    """"Which Qwen3 size for coding on 16GB?": a recommendation within what is named."""
    if ctx.models and ctx.flag("which") and (ctx.c.tasks or ctx.c.hard or ctx.flag("strongest")) and set(ctx.resolution.attributes) <= {"size"} \
            and not ctx.flag("yes_no"):
        return "recommend", "which-question naming a model"
    return None


@rule
def suitability(ctx: RuleContext):
    """"Gemma 3 適合寫程式嗎？", "Is Phi-4 good for coding?": yes or no for one named subject and a task."""
    # The turn's own task; one inherited from earlier turns only when this turn asks "is it suited?".
    own = [t for t in ctx.reading.constraints.tasks if t != "general"]
    again = ctx.flag("suitable") or (ctx.state is not None and ctx.state.intent == "suitability" and ctx.resolution.reference is not None)
    tasks = own or ([t for t in ctx.c.tasks if t != "general"] if again else [])
    asks = ctx.flag("yes_no") or ctx.flag("recommend") or ctx.flag("suitable")
    if len(ctx.catalog_subjects) == 1 and tasks and asks and not ctx.flag("which") and not ctx.flag("plural") \
            and not ctx.c.has_hardware() and not set(ctx.resolution.attributes) & {"memory", "speed", "modalities", "chinese", "languages"}:
        return "suitability", "is a named model suited to a task"
    return None


@rule
def model_fact(ctx: RuleContext):
    """A named model: its facts, the asked attribute first."""
    if ctx.models:
        return "fact", "named model"
    return None


@rule
def family_question(ctx: RuleContext):
    """A named family: a recommendation within it, its members, or its facts."""
    if not ctx.families:
        return None
    asked = set(ctx.resolution.attributes) & FACT_ATTRIBUTES
    if ctx.c.commercial_required or ctx.c.licence_ids:
        asked -= {"commercial", "licence"}  # 「我要商用」 is a need, not a question about the licence
    if (ctx.c.hard or ctx.c.tasks or ctx.flag("strongest")) and (ctx.flag("recommend") or ctx.flag("which") or ctx.flag("strongest")) and not asked:
        return "recommend", "family with constraints"
    if ctx.flag("plural") and (ctx.c.tasks or ctx.resolution.attributes):
        return "list", "members of a family"
    return "fact", "named family"


# ---------------------------------------------------------------- no named subject


def _listing_filter(ctx: RuleContext) -> bool:
    c = ctx.c
    return bool(c.licence_ids or c.open_source_only or c.tasks or c.avoid_countries or ctx.reading.constraints.languages
                or _country_filter(ctx) or (c.commercial_required and c.memory_gb is None))


def _country_filter(ctx: RuleContext) -> str | None:
    if ctx.c.avoid_countries:
        return None
    return next((t.id for t in vocabulary().terms("countries") if t.cues(ctx.reading.norm)), None)


@rule
def filtered_list(ctx: RuleContext):
    """"Which models are MIT / from France / can see images?": every model that matches."""
    c = ctx.c
    if ctx.flag("plural") and _listing_filter(ctx) and c.memory_gb is None and c.max_params_b is None and not ctx.flag("recommend"):
        return "list", "which-models with a filter"
    return None


@rule
def country_list(ctx: RuleContext):
    """"Which models are Chinese?": list by country."""
    if ctx.flag("which") and _country_filter(ctx) and not ctx.c.hard and not ctx.c.tasks and not ctx.flag("recommend"):
        return "list", "which-question about a country"
    return None


@rule
def lookup(ctx: RuleContext):
    """"Which model has P?" with no requirements: the article sentence that says so."""
    if ctx.flag("which") and not ctx.c.hard and not ctx.c.tasks and not ctx.flag("recommend") and not ctx.c.stated:
        return "lookup", "which-question about a property"
    if ctx.flag("which") and not ctx.c.hard and ctx.c.tasks and ctx.flag("lookup_verbs"):
        return "lookup", "which-question about a stated trait"
    return None


@rule
def recommend(ctx: RuleContext):
    """Requirements, a task, or recommendation wording: the best models that fit."""
    if ctx.c.stated or ctx.flag("recommend") or ctx.flag("which"):
        return "recommend", "requirements or which-wording"
    return None
