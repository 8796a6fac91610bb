"""Extractive lookup: the article indexed sentence by sentence.

"Which model has property P?" is answered by finding the sentence(s) that state P and
naming what that sentence is about: the catalog model it names, else its section's family.

Scoring mixes a lexical and a dense signal:

* lexical: the IDF-weighted share of the question's content words that the sentence
  contains (jieba words + CJK bigrams + ASCII words, entity aliases included), which
  rewards a sentence that states the asked property rather than one that merely names a
  model; question words (哪個, which, 模型) are not content;
* dense: cosine similarity of the sentence and the question under the assistant's
  embedder (USE v3 by default), computed once per process for the article's sentences.

`MIN_SCORE` is the calibrated threshold below which the answer is "the knowledge base
does not say" instead of a guess; it was set from the lookup and out-of-scope questions
of `eval/questions.jsonl` (the lowest true lookup scored above it, off-topic asks below).
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass

from ..embeddings import Embedder
from ..index import Chunk
from ..knowledge import Catalog
from ..retrieval import tokenize
from ..text import normalize, sentences
from ..vocabulary import vocabulary

MIN_SCORE = 0.30
"""Combined score a sentence needs before it is quoted as the answer."""

MIN_LEXICAL = 0.15
"""Share of the question's content words a sentence must contain: a sentence that shares
no word with the question is never the answer, however close its embedding."""

DENSE_WEIGHT = 0.35
# A question word that no sentence contains ("幫朋友問", a typo, a bigram across two words)
# cannot tell sentences apart; at full weight it only shrinks every sentence's lexical share.
# Half weight: measured on the five eval sets (no weight below 0.5 kept the own set at 100 %).
UNSEEN_WEIGHT = 0.5


_JOINED = re.compile(r"[.\-]")


def _word_groups(query: set[str]) -> list[set[str]]:
    """The query's tokens as words: "fine-tune" also yields "fine", "tune" and "finetune",
    one word that must count once, not four times."""
    groups: list[set[str]] = []
    grouped: set[str] = set()
    for token in sorted(query, key=len, reverse=True):
        if _JOINED.search(token) and token not in grouped:
            parts = [p for p in _JOINED.split(token) if p]
            group = {token, "".join(parts), *parts} & query
            group -= grouped
            if group:
                groups.append(group)
                grouped |= group
    return groups + [{t} for t in query if t not in grouped]

@dataclass(frozen=True)
class Sentence:
    text: str  # the text that is scored
    section: str
    family: str | None
    chunk_id: str
    model_id: str | None  # the first catalog model the sentence names
    quote_zh: str = ""  # what a zh answer quotes (the article sentence, or the catalog's paraphrase)
    quote_en: str = ""
    models: tuple[tuple[int, str], ...] = ()  # (position in the normalised text, model id) of every model named


@dataclass(frozen=True)
class Hit:
    text: str
    family: str | None
    model_id: str | None
    chunk_id: str
    score: float
    lexical: float
    dense: float
    quote_zh: str = ""
    quote_en: str = ""
    from_article: bool = True
    entity_family: str | None = None  # the family the sentence points to, other than the question's own
    names: frozenset[str] = frozenset()  # model and family ids the sentence names


def split_sentences(text: str) -> list[str]:
    return sentences(text, min_chars=6, max_chars=240)


class SentenceIndex:
    """Every sentence of the curated article, with lexical and dense scoring."""

    def __init__(self, catalog: Catalog, chunks: list[Chunk], embedder: Embedder | None = None) -> None:
        """Cheap: the sentences are split and tokenised on the first search."""
        self._catalog = catalog
        self._chunks = [c for c in chunks if c.source == "article"]
        self._embedder = embedder
        self._vectors = None  # numpy matrix of unit sentence embeddings, built on first use
        self._query_vectors: dict[str, object] = {}
        self._built = False
        self._lock = threading.Lock()

    def _build(self) -> None:
        with self._lock:
            if self._built:
                return
            self._tokenize = tokenize
            self.sentences: list[Sentence] = []
            for chunk in self._chunks:
                for text in split_sentences(chunk.text):
                    self.sentences.append(
                        Sentence(text, chunk.title, chunk.family, chunk.id, self._first_model(text), text, text,
                                 self._models(text))
                    )
            # The catalog's notable traits: the article's statements in zh and English, so an
            # English question ("puns", "pioneer") matches without translating the article.
            first_chunk = {}
            for chunk in self._chunks:
                first_chunk.setdefault(chunk.family, chunk.id)
            for family in self._catalog.families:
                for trait in family.notable:
                    model = self._first_model(trait.model or "") or self._first_model(trait.zh)
                    chunk_id = first_chunk.get(family.id, f"catalog:family:{family.id}")
                    for text in (trait.zh, trait.en):
                        self.sentences.append(
                            Sentence(text, family.name, family.id, chunk_id, model, trait.zh, trait.en, self._models(text))
                        )
            self._tokens = [set(self._content(tokenize(s.text))) for s in self.sentences]
            df = Counter(t for tokens in self._tokens for t in tokens)
            n = max(len(self._tokens), 1)
            self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
            self._default_idf = math.log(1 + (n + 0.5) / 0.5)
            self._built = True

    def _models(self, text: str) -> tuple[tuple[int, str], ...]:
        return tuple((m.start, m.target) for m in self._catalog.mentions(normalize(text)) if m.kind == "model")

    def _nearest_model(self, sentence: Sentence, query: set[str], exclude: frozenset[str]) -> str | None:
        """Of the models a sentence names (less those the question itself names), the one
        closest to the words the question matched ("…微調出 Devstral…，後續又微調出
        Magistral，是 Mistral 的推理模型" → Magistral)."""
        candidates = [m for m in sentence.models if m[1] not in exclude]
        if sentence.model_id and sentence.model_id not in exclude and not sentence.models:
            return sentence.model_id
        if not candidates:
            return None if sentence.model_id in exclude else sentence.model_id
        if len(candidates) == 1:
            return candidates[0][1]
        norm = normalize(sentence.text)
        # Words inside a name (the family, a model) say nothing about which model has the trait.
        names = [(m.start, m.end) for m in self._catalog.mentions(norm)]
        spots = [
            norm.find(t) for t in query
            if len(t) >= 2 and norm.find(t) >= 0 and not any(a <= norm.find(t) < b for a, b in names)
        ]
        if not spots:
            return candidates[0][1]
        return min(candidates, key=lambda m: min(abs(m[0] - spot) for spot in spots))[1]

    def _first_model(self, text: str) -> str | None:
        mentions = [m for m in self._catalog.mentions(normalize(text)) if m.kind == "model"]
        return mentions[0].target if mentions else None

    @staticmethod
    def _content(tokens: list[str]) -> list[str]:
        stop = vocabulary().words("stopwords.lookup_question")
        return [t for t in tokens if t not in stop and not (len(t) == 1 and not t.isalnum())]

    def _dense(self, question: str) -> list[float]:
        """Cosine similarity of the question to every sentence (one matrix product)."""
        import numpy as np  # noqa: PLC0415

        if self._embedder is None or not self.sentences:
            return [0.0] * len(self.sentences)
        with self._lock:
            if self._vectors is None:
                matrix = np.asarray(self._embedder.embed([s.text for s in self.sentences]), dtype=np.float32)
                self._vectors = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
            query = self._query_vectors.get(question)
        if query is None:
            vector = np.asarray(self._embedder.embed([question])[0], dtype=np.float32)
            query = vector / max(float(np.linalg.norm(vector)), 1e-9)
            with self._lock:
                # The planner and the renderer search with the same question: embed it once.
                if len(self._query_vectors) > 64:
                    self._query_vectors.clear()
                self._query_vectors[question] = query
        return (self._vectors @ query).tolist()

    def _entity_family(self, sentence: Sentence, model_id: str | None, exclude: frozenset[str]) -> str | None:
        """The family a hit answers with: its model's, else another family the sentence
        names ("蒸餾到阿里巴巴的 Qwen 模型上" → qwen), else the section's."""
        if model_id:
            return self._catalog.by_id[model_id].family
        others = [
            m.target for m in self._catalog.mentions(normalize(sentence.text))
            if m.kind == "family" and m.target not in exclude and m.target != sentence.family
        ]
        if others and sentence.family in exclude:
            return others[0]
        return sentence.family if sentence.family not in exclude else (others[0] if others else sentence.family)

    def _names(self, text: str) -> frozenset[str]:
        found = set()
        for m in self._catalog.mentions(normalize(text)):
            if m.kind == "model":
                found |= {m.target, self._catalog.by_id[m.target].family}
            elif m.kind == "family":
                found.add(m.target)
        return frozenset(found)

    def search(
        self, question: str, k: int = 3, min_score: float = MIN_SCORE, exclude: frozenset[str] = frozenset()
    ) -> list[Hit]:
        """The best sentences for `question`, best first; empty when none clears `min_score`.

        Args:
            exclude: model and family ids the question names itself; a hit names another
                model or family in the sentence when there is one.
        """
        self._build()
        query = set(self._content(self._tokenize(question)))
        if not query or not self.sentences:
            return []
        weights = {t: self._idf.get(t, self._default_idf * UNSEEN_WEIGHT) for t in query}
        groups = _word_groups(query)
        total = sum(max(weights[t] for t in group) for group in groups) or 1.0
        lexical = [
            sum(max((weights[t] for t in group & tokens), default=0.0) for group in groups) / total
            for tokens in self._tokens
        ]
        dense = self._dense(question)
        scores = [(1 - DENSE_WEIGHT) * lexical[n] + DENSE_WEIGHT * max(dense[n], 0.0) for n in range(len(self.sentences))]
        order = sorted(range(len(scores)), key=lambda n: -scores[n])[:k]
        hits = []
        for n in order:
            if scores[n] < min_score or lexical[n] < MIN_LEXICAL:
                continue
            sentence = self.sentences[n]
            model_id = self._nearest_model(sentence, query & self._tokens[n], exclude)
            hits.append(Hit(
                sentence.text, sentence.family, model_id, sentence.chunk_id, scores[n], lexical[n], dense[n],
                sentence.quote_zh, sentence.quote_en, sentence.quote_zh == sentence.quote_en,
                self._entity_family(sentence, model_id, exclude), self._names(sentence.text),
            ))
        return hits
