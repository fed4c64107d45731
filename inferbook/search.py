"""Full-text search over entries: a small in-memory inverted index with field
weights (aliases and titles count most) and BM25-style length normalisation.

Ranking: an entry whose id, title (with or without a trailing parenthesis) or alias
is the query itself comes first, ignoring case, spaces and punctuation ("paged
attention" finds `paged-attention`); then articles and reference entries above
sources (a source about a topic is where it is cited from, not what it is); then
the score."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"[a-z0-9]+(?:[.][a-z0-9]+)*")
_TRAILING_PARENTHESIS = re.compile(r"\s*\([^()]*\)\s*$")

FIELD_WEIGHTS = {"alias": 8.0, "title": 6.0, "id": 4.0, "summary": 2.0, "body": 1.0}


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; keeps dotted version numbers such as 3.1 together."""
    return _TOKEN.findall(text.lower())


def name_key(text: str) -> str:
    """``text`` reduced for exact-name matching: lower case, only letters and digits."""
    return "".join(re.findall(r"[a-z0-9]+", text.lower()))


def _names(doc: Document) -> set[str]:
    """The exact-name keys of a document: id, title, title without a trailing
    parenthesis ("PagedAttention (paged KV cache)" -> PagedAttention), aliases."""
    names = {doc.id, doc.title, _TRAILING_PARENTHESIS.sub("", doc.title)}
    names.update(text for field, text in doc.fields if field == "alias")
    return {key for key in map(name_key, names) if key}


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result."""

    id: str
    """The entry's id."""
    kind: str
    """The entry's kind, named like its kb/ folder (e.g. "gpus")."""
    title: str
    """The entry's title."""
    score: float
    """Relevance: a BM25-style sum over the query words, rounded to 4 decimals; higher is better.
    0.0 for an exact id, title or alias match that no query word matched as a token."""
    summary: str
    """The entry's summary, or an empty string when it has none."""


@dataclass(frozen=True, slots=True)
class Document:
    """The searchable text of one entry."""

    id: str
    kind: str
    title: str
    summary: str
    fields: tuple[tuple[str, str], ...]


class SearchIndex:
    """An inverted index over documents, built once."""

    def __init__(self, docs: Iterable[Document]):
        self._docs: dict[str, Document] = {}
        self._postings: dict[str, dict[str, float]] = defaultdict(dict)
        self._lengths: dict[str, float] = {}
        self._exact: dict[str, set[str]] = defaultdict(set)
        for doc in docs:
            self._add(doc)
        n = max(len(self._docs), 1)
        self._avg_len = sum(self._lengths.values()) / n if self._lengths else 1.0
        self._idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self._postings.items()}

    def _add(self, doc: Document) -> None:
        self._docs[doc.id] = doc
        for key in _names(doc):
            self._exact[key].add(doc.id)
        weighted: defaultdict[str, float] = defaultdict(float)
        length = 0
        for field, text in doc.fields:
            tokens = tokenize(text)
            length += len(tokens) if field == "body" else 0
            for tok in tokens:
                weighted[tok] += FIELD_WEIGHTS[field]
        self._lengths[doc.id] = max(length, 1)
        for tok, weight in weighted.items():
            self._postings[tok][doc.id] = weight

    def search(self, query: str, kind: str | None = None, limit: int = 20) -> list[SearchHit]:
        """Documents matching every query word (a prefix matches the last word), best first:
        exact id, title or alias matches, then entries other than sources, then by score."""
        words = tokenize(query)
        if not words:
            return []
        exact = self._exact.get(name_key(query), set())
        scores: dict[str, float] | None = None
        for i, word in enumerate(words):
            postings = dict(self._postings.get(word, {}))
            if i == len(words) - 1 and len(word) >= 2:
                for tok in self._prefix_terms(word):
                    for did, w in self._postings[tok].items():
                        postings[did] = max(postings.get(did, 0.0), w * 0.5)
            word_scores = {}
            for did, weight in postings.items():
                idf = self._idf.get(word, 1.0)
                norm = weight / (weight + 1.2 * (0.25 + 0.75 * self._lengths[did] / self._avg_len))
                word_scores[did] = idf * norm * (1 + weight / 10)
            scores = word_scores if scores is None else {d: s + word_scores[d] for d, s in scores.items()
                                                         if d in word_scores}
        scores = scores or {}
        for did in exact:  # "pagedattention" names paged-attention though no token matches
            scores.setdefault(did, 0.0)
        hits = []
        for did, score in scores.items():
            doc = self._docs[did]
            if kind is not None and doc.kind != kind:
                continue
            hits.append(SearchHit(did, doc.kind, doc.title, round(score, 4), doc.summary))
        hits.sort(key=lambda h: (h.id not in exact, h.kind == "sources", -h.score, h.id))
        return hits[:limit]

    def _prefix_terms(self, word: str) -> list[str]:
        return [t for t in self._postings if t.startswith(word) and t != word]
