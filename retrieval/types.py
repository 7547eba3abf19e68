"""Values that cross module boundaries: chunks going in, hits and answers coming out."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Chunk:
    """A piece of a document small enough for the embedding window."""

    doc_id: str
    position: int
    text: str
    start: int  # character offsets of `text` in the document's text
    end: int
    title: str = ""
    headings: tuple[str, ...] = ()
    page: int | None = None

    @property
    def heading_path(self) -> str:
        return " > ".join(h for h in self.headings if h)

    def embedding_text(self) -> str:
        """What the embedder sees: the heading context, then the text."""
        context = self.heading_path or self.title
        return f"{context}\n{self.text}" if context else self.text


@dataclass(frozen=True)
class DocMeta:
    """Document-level metadata copied onto every chunk for filtering and citing."""

    doc_id: str
    title: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()
    url: str = ""
    path: str = ""
    created: float | None = None  # unix seconds
    modified: float | None = None
    channel: str = ""  # a private Slack channel's id: shown only to questions asked there
    author: str = ""
    # The folder a local file was ingested from: answers show `path` relative to it. Where it
    # was found from, not what it holds, so it is kept out of the content hash.
    folder: str = ""


@dataclass
class Hit:
    """One retrieved chunk with its fused score and per-retriever ranks."""

    key: str
    doc_id: str
    text: str
    score: float
    title: str = ""
    source: str = ""
    url: str = ""
    path: str = ""
    tags: tuple[str, ...] = ()
    page: int | None = None
    position: int = 0
    start: int = 0
    end: int = 0
    heading: str = ""
    vector_score: float | None = None  # cosine similarity
    keyword_score: float | None = None  # BM25
    vector_rank: int | None = None
    keyword_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = _shallow(self)
        d["tags"] = list(self.tags)
        return d


@dataclass
class Span:
    """A verbatim answer: `text == hit.text[start:end]`."""

    text: str
    score: float
    hit: Hit
    start: int
    end: int
    context_start: int = 0  # the whole sentence(s) around the answer, for display
    context_end: int = 0


@dataclass
class Answer:
    """The answer object returned by `qa ask --json`, HTTP and Slack."""

    question: str
    answer: str | None
    score: float
    reader: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    reason: str | None = None
    explanation: dict[str, Any] = field(default_factory=dict)
    # the sentence (at most two) around the answer, as shown: {text, answer_start, answer_end}
    context: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; shares its lists with the answer (asdict's deep copy cost ~1 ms)."""
        return _shallow(self)


def _shallow(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}
