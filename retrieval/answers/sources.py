"""The answer's sources: one entry per document, with its passages under it.

A document is listed once, however many of its passages were read: the entry carries its
best passage (`text`, `start`, `end`, as before) and the others in `passages`. Copies are
shown once: a passage found word for word in another document (copies.py) and a document
that is a near copy of one listed before it (near_copies.py) become "also in". A document
that does not bear on the question is left out (`bearing`); the first entry, the answer's
document or the closest one when there is no answer, always stays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from retrieval.index.copies import collapse
from retrieval.index.near_copies import DocNotes
from retrieval.places import UrlMap, shown_place
from retrieval.text import overlap_scores, terms
from retrieval.types import Hit, Span

# "Far below the best": under this share of the best document's value, for the question's
# words it holds and for each retriever's score. A ratio, so it holds whatever a corpus's
# scale: a document about something else reaches a small fraction of the best (a cosine
# near zero, a BM25 score or a word share from one common word), while one that says the
# same in other words stays close to it on at least one of them.
FAR_BELOW = 0.5

Lookup = Callable[[Sequence[str]], Mapping[str, DocNotes]]
_PASSAGE_FIELDS = (
    "key",
    "text",
    "score",
    "rank",
    "heading",
    "page",
    "position",
    "chunk_start",
    "chunk_end",
    "start",
    "end",
    "vector_score",
    "keyword_score",
    "vector_rank",
    "keyword_rank",
)


@dataclass
class _Entry:
    hits: list[Hit]  # the document's passages, best first
    copies: list[Hit] = field(default_factory=list)  # other documents' copies of them
    folded: list[Hit] = field(default_factory=list)  # passages of near-copy documents

    @property
    def doc_id(self) -> str:
        return self.hits[0].doc_id


def list_sources(
    question: str,
    ordered: Sequence[Hit],
    ranked: Sequence[Hit],
    spans: Sequence[Span],
    notes: Mapping[str, DocNotes],
    maps: tuple[UrlMap, ...],
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The sources, and for each hit's key the index of the source that shows it."""
    entries = _by_document(ordered)
    # Judged before folding: a part of an all-in-one page that bears not on the question is
    # no "also in" of the part that does.
    bears = bearing(question, entries)
    entries = [e for i, e in enumerate(entries) if i == 0 or bears[i]]
    entries = _merge_near_copies(entries, notes)
    where: dict[str, int] = {}
    for i, e in enumerate(entries):
        for hit in [*e.hits, *e.copies, *e.folded]:
            where.setdefault(hit.key, i)
    place = _Places(notes, maps)
    return [_source(e, spans, list(ranked), place) for e in entries], where


def _by_document(ordered: Sequence[Hit]) -> list[_Entry]:
    kept, copies, _ = collapse(ordered)
    entries: dict[str, _Entry] = {}
    for hit in kept:
        entry = entries.setdefault(hit.doc_id, _Entry([]))
        entry.hits.append(hit)
        entry.copies += copies[hit.key]
    return list(entries.values())


def _merge_near_copies(entries: list[_Entry], notes: Mapping[str, DocNotes]) -> list[_Entry]:
    """A document that is a near copy of one listed before it is folded into that one."""
    out: list[_Entry] = []
    for entry in entries:
        near = notes.get(entry.doc_id, DocNotes()).near
        keeper = next((e for e in out if e.doc_id in near or _near(notes, e, entry)), None)
        if keeper is None:
            out.append(entry)
        else:
            keeper.folded += entry.hits
            keeper.copies += entry.copies
    return out


def _near(notes: Mapping[str, DocNotes], a: _Entry, b: _Entry) -> bool:
    return b.doc_id in notes.get(a.doc_id, DocNotes()).near


def bearing(question: str, entries: Sequence[_Entry]) -> list[bool]:
    """For each document, whether it bears on the question: False for one far below the best
    by everything known of it: the question's words it holds, and each retriever's score.

    Words are weighted by how few of the listed documents hold them (text.overlap_scores): a
    document holding none of them is far below, and so, usually, is one holding only a word
    they all share ("days" in a vacation question, over a handbook that rotates keys every
    90 days) next to one holding the rarer ones too.
    """
    held: list[float | None] = list(overlap_scores(question, [_terms(e) for e in entries]))
    signals = [
        _far(held),
        _far([_best(e, "vector_score") for e in entries]),
        _far([_best(e, "keyword_score") for e in entries]),
    ]
    known = [[far for far in signal if far is not None] for signal in zip(*signals, strict=True)]
    return [not far or not all(far) for far in known]


def _terms(entry: _Entry) -> set[str]:
    return terms(" ".join(f"{h.title} {h.heading} {h.text}" for h in entry.hits))


def _best(entry: _Entry, score: str) -> float | None:
    values = [getattr(h, score) for h in entry.hits if getattr(h, score) is not None]
    return max(values) if values else None


def _far(values: Sequence[float | None]) -> list[bool | None]:
    """Which values are far below the best; None (unknown) for all when no value is
    positive: nothing scored that way, or the best itself is nothing."""
    best = max((v for v in values if v is not None), default=None)
    if best is None or best <= 0:
        return [None] * len(values)
    return [v is None or v < FAR_BELOW * best for v in values]


class _Places:
    """Shown URL and path of a hit's document (retrieval/places.py)."""

    def __init__(self, notes: Mapping[str, DocNotes], maps: tuple[UrlMap, ...]) -> None:
        self.notes, self.maps = notes, maps

    def of(self, hit: Hit) -> tuple[str, str]:
        folder = self.notes.get(hit.doc_id, DocNotes()).folder
        return shown_place(hit.path, hit.url, folder, self.maps)


def _source(
    entry: _Entry, spans: Sequence[Span], ranked: list[Hit], place: _Places
) -> dict[str, Any]:
    first, *others = entry.hits
    d = _passage(first, spans, ranked, full=True)
    d["url"], d["path"] = place.of(first)
    d["also_in"] = _also_in(entry, place)  # the same passage or page elsewhere, shown once
    d["passages"] = [_passage(h, spans, ranked) for h in others]
    return d


def _passage(
    hit: Hit, spans: Sequence[Span], ranked: list[Hit], full: bool = False
) -> dict[str, Any]:
    d = hit.to_dict()
    d["rank"] = ranked.index(hit) + 1  # retrieval rank; the answer's source is listed first
    d["chunk_start"], d["chunk_end"] = d.pop("start"), d.pop("end")
    mine = next((s for s in spans if s.hit.key == hit.key), None)
    d["start"] = mine.start if mine else None
    d["end"] = mine.end if mine else None
    d["score"] = round(hit.score, 6)
    return d if full else {k: d[k] for k in _PASSAGE_FIELDS}


def _also_in(entry: _Entry, place: _Places) -> list[dict[str, str]]:
    """The other documents holding the passages or the whole page, each once."""
    places: dict[str, dict[str, str]] = {}
    for hit in [*entry.folded, *entry.copies]:
        if hit.doc_id != entry.doc_id and hit.doc_id not in places:
            url, path = place.of(hit)
            places[hit.doc_id] = {
                "doc_id": hit.doc_id,
                "title": hit.title,
                "url": url,
                "path": path,
            }
    return list(places.values())
