"""Answers that are not about a catalog entry: names the catalog lacks, closed models, questions
outside the assistant's scope, greetings and nonsense, and follow-ups that change nothing."""

from __future__ import annotations

from ..messages import join
from ..text import name_key
from .context import Context, Writer
from .types import Plan, Rendered


def examples(w: Writer) -> None:
    w.raw(w.say("scope.examples_head"))
    for key in ("scope.example_1", "scope.example_2"):
        w.raw("- " + w.say(key))


def _closest(plan: Plan, ctx: Context, name: str) -> list[str]:
    """Catalog entries of the family an unknown versioned name belongs to, newest first, with dates."""
    catalog = ctx.catalog
    lowered = name.lower()
    family = next((f for f in catalog.families if lowered.startswith(f.name.lower()) or any(lowered.startswith(a) for a in f.aliases if len(a) > 2)), None)
    if family is None:
        return []
    members = sorted(catalog.models_of(family.id), key=lambda m: m.released or "", reverse=True)
    return [w_item(m.name, m.released) for m in members[:4]]


def _article_mention(ctx: Context, name: str) -> tuple[str, str] | None:
    """An article sentence that names `name` itself (the catalog may lack a model the article mentions)."""
    if ctx.sentences is None:
        return None
    key = name_key(name)
    for hit in ctx.sentences.search(name, k=8, min_score=0.0):
        if hit.from_article and key and key in name_key(hit.text):
            return hit.quote_zh, ctx.cites.cite(hit.chunk_id)
    return None


def w_item(name: str, date: str | None) -> str:
    return f"{name} ({date[:7]})" if date else name


def render_unknown(plan: Plan, ctx: Context) -> Rendered:
    w = Writer(plan)
    names = [s.name for s in plan.subjects if s.kind == "unknown"]
    families = {f.name.lower() for f in ctx.catalog.families}
    # Only a known family's unknown version ("Llama 5") is repeated back; any other word from
    # the question is not echoed (a planted name must never reach an answer).
    models = [ctx.catalog.by_id[s.id].name.lower() for s in plan.subjects if s.kind == "model"]
    echo = [n for n in names if n.split(" ")[0].lower() in families or any(n.lower().startswith(m + " ") for m in models)]  # "Qwen3.5 14B"
    if echo:
        w.add("unknown.named", names=join(echo, w.language))
    else:
        w.add("unknown.anonymous")
    for name in names:
        quote = _article_mention(ctx, name)
        if quote:  # the catalog lacks it, but the article mentions it: say what the article says
            sentence, cite = quote
            w.raw(w.say("unknown.article_mentions", sentence=sentence, cite=cite))
    closest = [item for n in echo for item in _closest(plan, ctx, n)]
    if closest:
        w.raw(w.say("unknown.closest", items=join(list(dict.fromkeys(closest)), w.language)))
    known = [s for s in plan.subjects if s.kind == "model"]
    for s in known[:2]:
        model = ctx.catalog.by_id[s.id]
        w.raw((model.summary_zh if w.language != "en" else model.summary_en) + ctx.cites.model(s.id))
    w.raw(w.say("catalog.families", names=join([f.name for f in ctx.catalog.families], w.language)))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=[s.id for s in known])


def render_closed(plan: Plan, ctx: Context) -> Rendered:
    w = Writer(plan)
    for name in [s.id for s in plan.subjects if s.kind == "closed"]:
        closed = next((c for c in ctx.catalog.closed_models if c.name == name), None)
        if closed is None:
            continue
        w.add("closed.lead", name=closed.name, vendor=closed.vendor, note=closed.note_zh if w.language != "en" else closed.note_en)
    w.raw(w.say("closed.alternative"))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, footer=False)


def render_out_of_scope(plan: Plan, ctx: Context) -> Rendered:
    w = Writer(plan)
    w.add("scope.out")
    examples(w)
    return Rendered(w.text(), lead=w.lead, parts=w.parts, footer=False)


def render_scope(plan: Plan, ctx: Context) -> Rendered:
    w = Writer(plan)
    w.add("scope.injection" if plan.injection else "scope.help")
    examples(w)
    return Rendered(w.text(), lead=w.lead, parts=w.parts, footer=False)


def render_nonsense(plan: Plan, ctx: Context) -> Rendered:
    w = Writer(plan)
    w.add("scope.nonsense")
    examples(w)
    return Rendered(w.text(), lead=w.lead, parts=w.parts, footer=False)


def render_no_change(plan: Plan, ctx: Context) -> Rendered:
    w = Writer(plan)
    state = ctx.state
    first = (state.variants.get(state.shown[0]) or ctx.catalog.by_id[state.shown[0]].name) if state is not None and state.shown else None
    if first:
        w.add("followup.no_change_pick", name=first)
    else:
        w.add("followup.no_change")
    w.raw(w.say("followup.what_to_change"))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, footer=False)


def render_no_context(plan: Plan, ctx: Context) -> Rendered:
    w = Writer(plan)
    w.add("notice.no_context")
    examples(w)
    return Rendered(w.text(), lead=w.lead, parts=w.parts, footer=False)
