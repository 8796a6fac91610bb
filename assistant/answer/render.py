"""The answer for a plan: the intent picks the renderer.

Every renderer writes the answer first (the model, yes/no with its condition, the number
with its unit, or "not covered"), then reasons, then — only for recommendations — the
models that fit, best first. Sentences come from the message templates; `Rendered.lead`
is the first sentence's template key and slots.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from .context import Context
from .render_choice import render_compare, render_recommend, render_why_not
from .render_diff import render_diff
from .render_facts import render_fact, render_false_premise
from .render_fit import render_fit
from .render_lists import render_derivatives, render_list, render_lookup, render_newest, render_rank
from .render_scope import (
    render_closed,
    render_no_change,
    render_no_context,
    render_nonsense,
    render_out_of_scope,
    render_scope,
    render_unknown,
)
from .render_suit import render_only, render_suitability
from .types import Plan, Rendered

RENDERERS: dict[str, Callable[[Plan, Context], Rendered]] = {
    "recommend": render_recommend,
    "fact": render_fact,
    "false_premise": render_false_premise,
    "fit": render_fit,
    "why_not": render_why_not,
    "compare": render_compare,
    "rank": render_rank,
    "newest": render_newest,
    "list": render_list,
    "derivatives": render_derivatives,
    "suitability": render_suitability,
    "only": render_only,
    "diff": render_diff,
    "lookup": render_lookup,
    "unknown_model": render_unknown,
    "out_of_scope": render_out_of_scope,
    "closed": render_closed,
    "scope": render_scope,
    "nonsense": render_nonsense,
    "no_change": render_no_change,
    "no_context": render_no_context,
}


def render(plan: Plan, ctx: Context) -> Rendered:
    """The answer for `plan`."""
    first = RENDERERS.get(plan.intent, render_scope)(plan, ctx)
    if plan.intent == "false_premise" and plan.then_recommend:
        # "Since X only handles 128k, what should I use instead?": the premise corrected, then the answer.
        c = dataclasses.replace(plan.constraints, mentioned_models=[], mentioned_families=[])
        rest = render_recommend(Plan(**{**plan.__dict__, "claims": [], "subjects": [], "constraints": c, "intent": "recommend"}), ctx)
        return Rendered(first.text + "\n" + rest.text, lead=first.lead, parts=first.parts + rest.parts, shown=rest.shown,
                        variants=rest.variants, recommendations=rest.recommendations, excluded=rest.excluded)
    return first
