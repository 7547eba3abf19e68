"""What the service answers, as pydantic models: every body is serialized through its model,
and the OpenAPI document embeds their JSON Schema.

The answer itself is `retrieval.types.Answer`, a dataclass the CLI, Slack and the feedback
store share; its JSON shape is the HTTP API's promise, so it is stated here, at the edge,
and the engine stays free of a schema library. Fields not listed are kept as they come
(`extra="allow"`), and only the fields an answer holds are written (`exclude_unset`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from retrieval.answers.answer import REASONS
from retrieval.choices import READERS
from retrieval.types import Answer as AnswerValue

ANSWERING = tuple(r for r in READERS if r != "auto")  # the readers an answer can name


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Place(_Open):
    url: str = Field(
        "",
        description="Its own URL, or the one QA_SOURCE_URLS maps its folder to; empty if neither.",
    )
    path: str = Field(
        "",
        description="A file's path inside the folder that was ingested (or "
        "its name), never the server's absolute path; a page's URL.",
    )


class Passage(_Open):
    """One passage read from a document: where it is and how it was found."""

    key: str
    text: str
    score: float = 0.0
    rank: int = Field(description="Its rank in retrieval, 1 for the best.")
    heading: str = ""
    page: int | None = None
    position: int = 0
    chunk_start: int = 0
    chunk_end: int = 0
    start: int | None = Field(None, description="The answer's offset in `text`.")
    end: int | None = None
    vector_score: float | None = None
    keyword_score: float | None = None
    vector_rank: int | None = None
    keyword_rank: int | None = None


class AlsoIn(_Place):
    doc_id: str = ""
    title: str = ""


class Source(_Place, Passage):
    """One document: its best passage's fields, its other passages in `passages`."""

    doc_id: str
    score: float
    start: int | None
    end: int | None
    title: str = ""
    source: str = ""
    tags: list[str] = []
    passages: list[Passage] = Field(
        [], description="The document's other passages read for this question, best first."
    )
    also_in: list[AlsoIn] = Field(
        [],
        description="Other documents holding the same passages or the same page (a copy, "
        "a near copy, an all-in-one page), shown once.",
    )


class Candidate(_Open):
    answer: str
    score: float
    doc_id: str = ""
    title: str = ""
    source: str = ""
    url: str = ""
    page: int | None = None
    source_index: int | None = Field(
        None,
        description="The entry of `sources` showing its "
        "document; null if that document is not listed.",
    )
    key: str = Field(
        "",
        description="The passage it was read from: the entry's own `key` or "
        "one of its `passages` (`start` and `end` are offsets in that passage's "
        "`text`), or a copy listed in `also_in`.",
    )
    start: int
    end: int
    context: str
    context_start: int
    context_end: int = 0


class Context(_Open):
    """The sentence (at most two) the answer stands in, as shown, and where the answer is."""

    text: str
    answer_start: int
    answer_end: int


class Answer(_Open):
    question: str
    answer: str | None = Field(description="Verbatim from a source.")
    score: float = Field(
        description="On a calibrated index (`qa calibrate`) the confidence, 0..1, that the "
        "documents answer the question; otherwise the reader's own score. "
        "`explanation.confidence` says which, with the threshold."
    )
    reader: Literal[ANSWERING]
    sources: list[Source]
    candidates: list[Candidate]
    timings: dict[str, float] = Field(description="Milliseconds: embed, retrieve, read, total.")
    reason: Literal[tuple(REASONS)] | None  # type: ignore[valid-type]
    explanation: dict[str, Any]
    context: Context | None = None
    answer_id: str | None = Field(
        None, description="Names this answer to POST /feedback (null when it could not be kept)."
    )

    @classmethod
    def body(cls, answer: AnswerValue, answer_id: str | None) -> dict[str, Any]:
        """The JSON of an /ask response: the answer object of `qa ask --json` and its id."""
        shaped = cls.model_validate({**answer.to_dict(), "answer_id": answer_id})
        return shaped.model_dump(exclude_unset=True)


class FeedbackRecorded(BaseModel):
    status: Literal["recorded"]
    id: str


class Problem(_Open):
    """Every error, as application/problem+json (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str
    field: str = Field("", description="The request field at fault.")


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    redis: Literal["ok"]
    index: str
    chunks: int = Field(ge=0)
    embedder: str
    reader: Literal[ANSWERING]


def dumped(model: type[BaseModel], **fields: Any) -> dict[str, Any]:
    """`fields` as `model` states them: checked, and written as the document says."""
    return model.model_validate(fields).model_dump(exclude_unset=True)
