"""Citations: numbering the passages an answer cites, and quoting the article.

`Citations` assigns `[n]` in first-cited order; `Reply.sources` is that list. `quote_article`
finds the curated article's sentence that best supports an answer. Only the curated article
is quoted, never a user document, so a dropped-in file cannot put words into an answer.
"""

from __future__ import annotations

from functools import lru_cache

from ..index import Chunk
from ..retrieval import Passage, tokenize
from ..text import sentences
from ..vocabulary import vocabulary

RARE_IDF = 2.5


class Citations:
    """Assigns [n] to passages in first-cited order; `sources` is that list."""

    def __init__(self, chunks: dict[str, Chunk], retrieved: list[Passage]) -> None:
        self._chunks = chunks
        self._retrieved = retrieved
        self.sources: list[Passage] = []
        self._number: dict[str, int] = {}

    def cite(self, chunk_id: str | None) -> str:
        if not chunk_id:
            return ""
        if chunk_id not in self._number:
            passage = next((p for p in self._retrieved if p.id == chunk_id), None)
            if passage is None:
                chunk = self._chunks.get(chunk_id)
                if chunk is None:
                    return ""
                passage = Passage(chunk.id, chunk.source, chunk.title, chunk.text, 0.0, chunk.family, chunk.model_id)
            self.sources.append(passage)
            self._number[chunk_id] = len(self.sources)
        return f"[{self._number[chunk_id]}]"

    def model(self, model_id: str) -> str:
        return self.cite(f"catalog:{model_id}")

    def family(self, family_id: str) -> str:
        return self.cite(f"catalog:family:{family_id}")

    def article_for(self, family: str) -> str | None:
        """The best retrieved article passage of a family, else its first article chunk."""
        for passage in self._retrieved:
            if passage.source == "article" and passage.family == family:
                return passage.id
        for chunk_id, chunk in self._chunks.items():
            if chunk.source == "article" and chunk.family == family:
                return chunk_id
        return None

    def article(self, family: str) -> str:
        return self.cite(self.article_for(family))

    def article_chunks(self) -> list[Chunk]:
        return [c for c in self._chunks.values() if c.source == "article"]

    def fill(self, k: int) -> None:
        """Add the remaining top passages (uncited) so readers can check the context."""
        for passage in self._retrieved:
            if len(self.sources) >= k:
                break
            if passage.id not in self._number:
                self.sources.append(passage)
                self._number[passage.id] = len(self.sources)


def _is_name_like(token: str) -> bool:
    """A product or term name ("openmath", "r1-1776"), not an everyday Chinese word."""
    return len(token) >= 3 and token.isascii() and any(ch.isalpha() for ch in token)


@lru_cache(maxsize=4096)
def _tokens(text: str) -> frozenset[str]:
    return frozenset(tokenize(text))


def best_article_sentence(
    question: str, passages: list[Passage], idf: dict[str, float], families: set[str], naming: bool = False
) -> tuple[str, str] | None:
    """The article sentence that best answers the question, as (passage id, sentence).

    Score: the summed IDF of the query tokens the sentence shares (a rare term such as
    "OpenMath" finds its sentence anywhere in the article), favouring the families the
    question names; a question about a name favours sentences that explain names.
    """
    query = _tokens(question)
    explains_names = vocabulary().cues("intent.naming_sentence")
    candidates = [(p, s) for p in passages if p.source == "article" for s in sentences(p.text, 8, 220)]
    home: set[str] = set()
    for passage, sentence in candidates:
        if passage.family in families:
            home |= _tokens(sentence)
    scored: list[tuple[float, str, str]] = []
    for passage, sentence in candidates:
        shared = query & _tokens(sentence)
        if families and passage.family not in families:
            if not any(_is_name_like(t) and idf.get(t, 0.0) >= RARE_IDF and t not in home for t in shared):
                continue
        score = sum(idf.get(t, 0.0) for t in shared) / (1 + len(sentence) / 200)
        if passage.family in families:
            score *= 1.3
            if naming and explains_names(sentence):
                score += 6.0
        scored.append((score, passage.id, sentence))
    if not scored:
        return None
    scored.sort(key=lambda item: -item[0])
    best = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if best[0] >= 6.0 or (best[0] >= 4.0 and best[0] >= 1.8 * runner_up):
        return best[1], best[2]
    return None


def article_quote(question: str, retrieved: list[Passage], idf: dict[str, float] | None, families: set[str],
                  cites: Citations, naming: bool = False) -> tuple[str, str] | None:
    """(sentence, citation) of the article sentence worth quoting, or None."""
    passages = retrieved + [
        Passage(c.id, c.source, c.title, c.text, 0.0, c.family, c.model_id)
        for c in cites.article_chunks() if c.id not in {p.id for p in retrieved}
    ]
    found = best_article_sentence(question, passages, idf or {}, families, naming)
    if not found:
        return None
    passage_id, sentence = found
    return sentence, cites.cite(passage_id)
