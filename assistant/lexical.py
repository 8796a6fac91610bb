"""Text as the keyword channel sees it: normalised, tokenised, and scored with BM25.

`tokenize` cuts a text into jieba search-mode words for its CJK runs, ASCII words with their
joined forms, and CJK character bigrams, after `normalise_text` (NFKC, lower case, Simplified
to Traditional). `BM25` scores pre-tokenised documents.

The index build tokenises every chunk with the full jieba dictionary and saves the subset of
that dictionary its texts need (`jieba_subset`); a process that loads the index tokenises
questions with that subset (`use_index_dictionary`), which loads in milliseconds and cuts the
indexed texts exactly as the full dictionary does. Retrieval and the answer composer tokenise
with the same function, so a question and the chunks always meet on the same tokens.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence

from .chinese import to_traditional_query

_STOP = set(
    "的 了 是 在 和 與 及 或 也 都 就 而 嗎 呢 吧 啊 喔 哪 個 些 這 那 有 我 你 他 她 它 們 要 會 能 可以 什麼 "
    "哪個 哪些 怎麼 如何 多少 一個 嗎 ？ ? 、 ， , 。 . ！ ! ： : ； ; （ ） ( ) 「 」 the a an of to is are for "
    "which what how does do in on with and or".split()
)
_jieba_lock = threading.Lock()
_jieba = None
_index_jieba = None  # a jieba tokenizer on the index's own dictionary subset (see `jieba_subset`)
_known_tokens: dict[str, list[str]] = {}  # texts tokenized when the index was built


def _get_jieba():
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba  # noqa: PLC0415 (lazy: ~0.3 s)

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def jieba_subset(texts: Sequence[str]) -> dict[str, object]:
    """The entries of jieba's dictionary (words and the prefixes its walk needs) that occur
    inside `texts`, with the dictionary's total: {"freq": {...}, "total": n}.

    jieba segments a text from the dictionary entries found inside it, so a tokenizer on
    this subset cuts every one of `texts` exactly as the full 350k-entry dictionary does,
    and loads in milliseconds instead of about a second. A question may contain words the
    subset lacks; they are not in the index either, so BM25 cannot match them anyway.
    """
    full = _get_jieba().dt
    freq = full.FREQ
    subset: dict[str, int] = {}
    for text in texts:
        for run in _CJK.findall(normalise_text(text)):
            for start in range(len(run)):
                end = start + 1
                fragment = run[start:end]
                while end <= len(run) and fragment in freq:
                    subset[fragment] = freq[fragment]
                    end += 1
                    fragment = run[start:end]
    return {"freq": subset, "total": full.total}


def use_index_dictionary(data: dict[str, object] | None, known: dict[str, list[str]] | None = None) -> None:
    """Tokenize questions with the index's dictionary subset (None: the full dictionary);
    `known` maps texts already tokenized at build time (the article's sentences) to tokens."""
    global _index_jieba
    _known_tokens.clear()
    _known_tokens.update(known or {})
    if data is None:
        _index_jieba = None
        return
    import jieba  # noqa: PLC0415

    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = dict(data["freq"])  # type: ignore[call-overload]
    tokenizer.total = data["total"]
    tokenizer.initialized = True
    _index_jieba = tokenizer


def normalise_text(text: str) -> str:
    """NFKC, lower-case, Simplified -> Traditional; safe on any input."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    text = unicodedata.normalize("NFKC", text).lower()
    return to_traditional_query(text)


_ASCII_WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def tokenize(text: str, full_dictionary: bool = False) -> list[str]:
    """jieba search-mode words for CJK runs, plus ASCII words and their joined forms
    ('phi-4' -> 'phi-4', 'phi', '4', 'phi4'), plus CJK character bigrams.

    The index's dictionary subset is used once an index is loaded, unless
    `full_dictionary` (index builds use the full one)."""
    if not full_dictionary:
        known = _known_tokens.get(text)
        if known is not None:
            return list(known)
    norm = normalise_text(text)
    tokens: list[str] = []
    for word in _ASCII_WORD.findall(norm):
        tokens.append(word)
        parts = re.split(r"[.\-]", word)
        if len(parts) > 1:
            tokens.extend(p for p in parts if p)
            tokens.append("".join(parts))
    jieba = _index_jieba if _index_jieba is not None and not full_dictionary else None
    for run in _CJK.findall(norm):
        jieba = jieba or _get_jieba()
        tokens.extend(w for w in jieba.lcut_for_search(run) if w.strip())
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return [t for t in tokens if t not in _STOP]


class BM25:
    """Okapi BM25 over pre-tokenised documents (k1=1.5, b=0.75)."""

    def __init__(self, docs: Sequence[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in docs]
        self.lengths = [len(d) for d in docs]
        self.avg = (sum(self.lengths) / len(docs)) if docs else 1.0
        df: Counter[str] = Counter()
        for counts in self.tf:
            df.update(counts.keys())
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: list[str]) -> list[float]:
        out = [0.0] * len(self.tf)
        terms = [t for t in set(query) if t in self.idf]
        for i, counts in enumerate(self.tf):
            norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / (self.avg or 1.0))
            total = 0.0
            for term in terms:
                f = counts.get(term)
                if f:
                    total += self.idf[term] * f * (self.k1 + 1) / (f + norm)
            out[i] = total
        return out
