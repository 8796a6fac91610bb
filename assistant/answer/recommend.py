"""Shortlists that truly fit, and the "why not" a user would ask about.

On top of `assistant.selection` (hard filters, ranking, fit estimates):

* **Task fitness.** The catalog's `request_rules` say which tagged weaknesses rule a model
  out for which request (Simplified drift for a Traditional-Chinese service, no Chinese
  for a Chinese one, weak coding for coding). Such a model is excluded with the reason.
* **No padding.** When the question names a task, only models tagged for it are listed;
  when only two fit, two are shown and the answer says so.
* **Relevant exclusions.** "Why not" names the strong candidates that failed one
  constraint (task specialists, the article's recommendations, models the user named),
  not every model that is obviously too big.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..constraints import Constraints, normalize
from ..knowledge import Catalog, Model
from ..selection import (
    Exclusion,
    Recommendation,
    _fit_for,
    _rank_score,
    _reason,
    _sizes_within,
    check_model,
)

_TRADITIONAL = re.compile(
    r"繁體|繁中|正體|台灣|臺灣|不(?:會|要|能)?(?:跳|變)(?:成)?簡體|不要簡體|避免簡體|traditional chinese|taiwan|no simplified", re.I
)
_LOW_LATENCY = re.compile(r"低延遲|即時|快速回應|回應要快|反應快|latency|real[- ]?time|fast response", re.I)
# Tasks a model must be tagged for to be listed; general wishes (edge, efficiency) only rank.
SPECIALIST_TASKS = frozenset(
    {"coding", "reasoning", "vision", "speech", "math", "tool-use", "rag", "long-context", "multilingual",
     "chinese", "low-refusal", "uncensored-history", "fine-tuning-base"}
)


@dataclass
class Shortlist:
    recommendations: list[Recommendation]
    excluded: list[Exclusion]
    ranked: list[Recommendation] = field(default_factory=list)  # every model that passed, best first
    task_matches: int = 0  # how many passing models are tagged for an asked task
    specialist_tasks: list[str] = field(default_factory=list)


def requests_of(question: str, c: Constraints) -> list[str]:
    """The request keys the catalog's rules are written for."""
    norm = normalize(question)
    requests = list(c.tasks)
    if "chinese" in c.tasks and _TRADITIONAL.search(norm) and "traditional-chinese" not in requests:
        requests.append("traditional-chinese")
    elif _TRADITIONAL.search(norm) and re.search(r"中文|chinese|客服|服務|回答", norm):
        requests += ["chinese", "traditional-chinese"]
    if _LOW_LATENCY.search(norm):
        requests.append("low-latency")
    return list(dict.fromkeys(requests))


def weakness_conflict(model: Model, requests: list[str], catalog: Catalog, zh: bool) -> tuple[str, str] | None:
    """(request, reason) when a tagged weakness of `model` rules it out for a request."""
    for rule in catalog.request_rules:
        if rule.request not in requests:
            continue
        for tag in rule.excludes:
            if tag in model.weakness_tags:
                label = catalog.weakness_labels[tag]
                return rule.request, (f"{model.name}：{label.zh}" if zh else f"{model.name}: {label.en}")
    return None


def check(model: Model, c: Constraints, requests: list[str], catalog: Catalog, zh: bool) -> tuple[str, str] | None:
    """The first reason `model` does not fit: a hard constraint, then a task conflict."""
    broken = check_model(model, c, "zh-TW" if zh else "en", catalog)
    if broken:
        return broken
    conflict = weakness_conflict(model, requests, catalog, zh)
    if conflict:
        return ("task:" + conflict[0], conflict[1])
    return None


def build_shortlist(
    catalog: Catalog,
    c: Constraints,
    question: str,
    zh: bool,
    limit: int = 5,
    family: str | None = None,
    diverse: bool = True,
    mentioned: list[str] | None = None,
) -> Shortlist:
    """Filter, rank and explain. Never pads the list with models that fail the task."""
    lang = "zh-TW" if zh else "en"
    requests = requests_of(question, c)
    specialist = [t for t in c.tasks if t in SPECIALIST_TASKS]
    kept: list[Recommendation] = []
    excluded: list[Exclusion] = []
    for model in catalog.models:
        if family and model.family != family:
            continue
        broken = check(model, c, requests, catalog, zh)
        if broken:
            excluded.append(Exclusion(model, broken[1], broken[0]))
            continue
        sizes = _sizes_within(model, c)
        fit = _fit_for(model, sizes, c) if c.memory_gb is not None else None
        variant = next((v for v in sizes if fit and v.name == fit.variant), None) or max(sizes, key=lambda v: v.params_total_b)
        score, matched = _rank_score(model, variant, c)
        kept.append(Recommendation(model, variant, score, "", fit, matched))
    kept.sort(key=lambda r: (-r.score, r.model.params_total_b))
    task_matches = [r for r in kept if any(t in r.matched_tasks for t in specialist)]
    pool = task_matches if specialist and task_matches else ([] if specialist else kept)
    chosen: list[Recommendation] = []
    seen: set[str] = set()
    for rec in pool:
        if diverse and family is None and rec.model.family in seen:
            continue
        seen.add(rec.model.family)
        chosen.append(rec)
    top = chosen[:limit]
    as_of = catalog.as_of.isoformat()
    for rec in top:
        rec.reason = _reason(rec.model, rec.variant, rec.matched_tasks, rec.fit, lang, as_of)
    not_listed = [r for r in kept if r not in top and specialist and r not in task_matches]
    return Shortlist(
        recommendations=top,
        excluded=relevant_exclusions(excluded, c, specialist, mentioned or [], not_listed),
        ranked=kept,
        task_matches=len(task_matches),
        specialist_tasks=specialist,
    )


def relevant_exclusions(
    excluded: list[Exclusion],
    c: Constraints,
    specialist: list[str],
    mentioned: list[str],
    not_listed: list[Recommendation] | None = None,
    limit: int = 5,
) -> list[Exclusion]:
    """The exclusions a user would wonder about, most relevant first.

    A model the user named comes first; then task specialists and the article's
    recommendations that failed a constraint. Models that are obviously out of reach
    (more than four times the memory budget) are left out unless the user named them.
    """

    def obviously_out(e: Exclusion) -> bool:
        if e.constraint != "memory" or c.memory_gb is None:
            return False
        smallest = min(v.params_total_b for v in e.model.sizes)
        return smallest * 0.6 > c.memory_gb * 4  # ~Q4 weights alone are far beyond the budget

    def relevance(e: Exclusion) -> tuple[int, int, float]:
        named = e.model.id in mentioned or e.model.family in c.mentioned_families
        task_hit = any(t in e.model.strengths for t in specialist)
        recommended = e.model.verdict == "recommended"
        return (0 if named else 1, 0 if task_hit else (1 if recommended else 2), min(v.params_total_b for v in e.model.sizes))

    chosen: list[Exclusion] = []
    families: set[str] = set()
    for exclusion in sorted(excluded, key=relevance):
        named = exclusion.model.id in mentioned
        if not named:
            if exclusion.constraint == "released" or obviously_out(exclusion):
                continue
            if specialist and not any(t in exclusion.model.strengths for t in specialist) and exclusion.model.verdict != "recommended":
                continue
            if exclusion.model.family in families:
                continue
        families.add(exclusion.model.family)
        chosen.append(exclusion)
        if len(chosen) >= limit:
            break
    return chosen


def rank_position(model_id: str, shortlist: Shortlist) -> int | None:
    """1-based place of a model among every model that passed the filters."""
    for n, rec in enumerate(shortlist.ranked, 1):
        if rec.model.id == model_id:
            return n
    return None


def fit_for_model(model: Model, c: Constraints):
    """The best-fitting size of `model` under the constraints' memory budget, or None."""
    sizes = _sizes_within(model, c) or model.sizes
    return _fit_for(model, sizes, c)
