"""A user's own business facts, and licence terms that depend on them.

Some licences decide commercial use by who the user is: a revenue ceiling (Devstral 2's modified
MIT, the LFM Open License), a monthly-active-user threshold (Llama, Qwen, Kimi's display
clause) or territories outside the grant (Hunyuan: EU, UK, South Korea). The numbers are data
(`knowledge/licence_terms.yaml`); what a user says about themselves ("月營收 3000 萬美金",
"120M MAU", "a startup in Berlin") is read here with the words in
`knowledge/vocabulary/business.yaml`. `findings(...)` applies one to the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .messages import Message
from .vocabulary import Vocabulary, vocabulary

TERMS_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "licence_terms.yaml"

_AMOUNT = re.compile(r"(?<![0-9.,])(us\$|\$|nt\$)?\s?(\d{1,6}(?:[.,]\d{1,3})?)\s?(萬|億|千萬|k|m|mn|million|b|bn|billion)?(?![a-z0-9])")
_SCALE = {"萬": 1e4, "千萬": 1e7, "億": 1e8, "k": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
WINDOW = 16  # characters around an amount in which its meaning words are looked for


@dataclass(frozen=True)
class Business:
    """What the user said about themselves; None where they said nothing."""

    revenue_usd_month: float | None = None
    mau: float | None = None
    location: str | None = None  # ISO 3166 code, or EU

    def __bool__(self) -> bool:
        return self.revenue_usd_month is not None or self.mau is not None or self.location is not None


def read_business(text: str, v: Vocabulary | None = None) -> Business:
    """Revenue (in US dollars, per month), monthly active users and location from normalised text."""
    v = v or vocabulary()
    usd = v.table("business.usd_words")
    revenue = mau = None
    for match in _AMOUNT.finditer(text):
        sign, number, unit = match.group(1), match.group(2), match.group(3) or ""
        value = float(number.replace(",", "")) * _SCALE.get(unit, 1.0)
        before = text[max(0, match.start() - WINDOW) : match.start()]
        after = text[match.end() : match.end() + WINDOW]
        around = before + " " + after
        currency = sign in ("us$", "$") or any(after.lstrip().startswith(word) for word in usd)
        if currency and revenue is None and (v.cues("business.revenue")(around) or v.cues("business.per_month")(around)
                                             or v.cues("business.per_year")(around)):
            monthly = v.cues("business.per_month")(around) and not v.cues("business.per_year")(before[-8:] + after[:8])
            revenue = value if monthly else value / 12
        elif not currency and sign is None and mau is None and unit and v.cues("business.users")(around):
            mau = value
    return Business(revenue, mau, _location(text, v))


def _location(text: str, v: Vocabulary) -> str | None:
    places = v.table("business.places")
    for name in sorted(places, key=len, reverse=True):
        for match in re.finditer(rf"(?<![a-z]){re.escape(name)}(?![a-z])", text):
            before = text[max(0, match.start() - 24) : match.start()]
            located = v.cues("business.located").search(before)
            if located and located.end() == len(before):
                return str(places[name])
    return None


@lru_cache(maxsize=1)
def licence_terms(path: str | None = None) -> list[dict[str, Any]]:
    with open(path or TERMS_PATH, encoding="utf-8") as handle:
        return list((yaml.safe_load(handle) or {}).get("terms") or [])


def terms_for(model: Any) -> dict[str, Any] | None:
    """The threshold terms of `model`'s licence (a catalog Model, a size's facts), if any."""
    for entry in licence_terms():
        if entry["licence"] == model.licence.id and (not entry.get("families") or model.family in entry["families"]):
            return entry
    return None


def _in(place: str, territories: list[str], v: Vocabulary) -> bool:
    eu = v.table("business.eu_members")
    return place in territories or ("EU" in territories and place in eu)


def findings(model: Any, business: Business, language: str = "zh-TW") -> list[tuple[str, Message]]:
    """What the licence's thresholds mean for this user: (outcome, message) with outcome
    `blocked` (not licensed to them), `display` (allowed, with the name shown) or `clear`."""
    terms = terms_for(model) if business else None
    if not terms:
        return []
    v = vocabulary()
    out: list[tuple[str, Message]] = []
    slots = {"name": model.name, "licence": model.licence.id, "vendor": model.vendor}
    revenue = terms.get("revenue")
    if revenue and business.revenue_usd_month is not None:
        limit = float(revenue["limit_usd"])
        theirs = business.revenue_usd_month * (12 if revenue["period"] == "year" else 1)
        over = theirs > limit
        key = ("terms.revenue_over_" + revenue["over"]) if over else "terms.revenue_under"
        out.append(("blocked" if over and revenue["over"] == "needs_licence" else "display" if over else "clear",
                    Message(key, {**slots, "amount": _money(theirs), "limit": _money(limit), "period_zh": _period(revenue["period"], "zh-TW"),
                                  "period_en": _period(revenue["period"], "en")})))
    users = terms.get("mau")
    if users and business.mau is not None:
        over = business.mau > float(users["limit"])
        key = ("terms.mau_over_" + users["over"]) if over else "terms.mau_under"
        out.append(("blocked" if over and users["over"] == "needs_licence" else "display" if over else "clear",
                    Message(key, {**slots, "users": _count(business.mau), "limit": _count(float(users["limit"]))})))
    excluded = terms.get("excluded") or []
    if excluded and business.location:
        label = v.table("business.place_labels").get(business.location) or {}
        names = {"zh": label.get("zh", business.location), "en": label.get("en", business.location)}
        if _in(business.location, excluded, v):
            scope = terms.get("excluded_note") or ""
            out.append(("blocked",
                        Message("terms.region_excluded" + (f"_{scope}" if scope else ""),
                                {**slots, "place_zh": names["zh"], "place_en": names["en"], "excluded": ", ".join(excluded)})))
        else:
            out.append(("clear", Message("terms.region_ok", {**slots, "place_zh": names["zh"], "place_en": names["en"],
                                                              "excluded": ", ".join(excluded)})))
    return out


def _money(usd: float) -> str:
    return f"US${usd / 1e6:,.1f}M".replace(".0M", "M")


def _count(n: float) -> str:
    return f"{n / 1e6:,.0f}M" if n >= 1e6 else f"{n:,.0f}"


def _period(period: str, language: str) -> str:
    return {"month": {"zh-TW": "每月", "en": "per month"}, "year": {"zh-TW": "每年", "en": "per year"}}[period][language]
