"""The bodies of POST /ask and POST /feedback as pydantic models.

They validate the request and give the JSON Schema the OpenAPI document embeds, so the two
cannot drift apart. Shapes only, as JSON Schema can state them: the question's emptiness and
length are the engine's one question check (`normalize_question`), stated here for the
document; a filter that is well-formed but means nothing (a date that is not a date) fails
the filter language, `parse_filters`, at its field.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidatorFunctionWrapHandler,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from retrieval.choices import CONFIDENCE_RANGE, MAX_TS, MIN_K, MIN_TS, MODES, READERS
from retrieval.errors import FilterError
from retrieval.feedback import ANSWER_TTL_S, MAX_ANSWER_ID_CHARS, MAX_CORRECTION_CHARS
from retrieval.query import filters as language
from retrieval.settings import Settings

# A filter value; the filter language says what an empty one should hold.
Text = Annotated[
    str, Field(strict=True, max_length=language.MAX_VALUE_CHARS, json_schema_extra={"minLength": 1})
]
Date = Text | Annotated[float, Field(strict=True, ge=MIN_TS, le=MAX_TS)]
Texts = Text | Annotated[list[Text], Field(min_length=1, max_length=language.MAX_VALUES)]
Dates = Date | Annotated[list[Date], Field(min_length=1, max_length=language.MAX_VALUES)]


class _FilterShape(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _query: language.Filters = PrivateAttr(default_factory=language.Filters)

    @model_validator(mode="wrap")
    @classmethod
    def _means_something(cls, data: Any, shape: ValidatorFunctionWrapHandler) -> Any:
        checked = shape(data)
        try:
            checked._query = language.parse_filters(data)  # in the order sent, as typed
        except FilterError as e:
            raise PydanticCustomError("bad_filter", "{detail}", {"detail": str(e)}) from None
        return checked

    @property
    def query(self) -> language.Filters:
        """The filters as the filter language reads them."""
        return self._query


Filters = create_model(
    "Filters",
    __base__=_FilterShape,
    __doc__=(
        "Tags, sources and doc ids match any of the values (a comma also separates values); "
        "not_doc_id leaves those documents out; text terms must all appear. Dates: 2024, "
        "2024-03, 2024-03-31, an ISO datetime, unix seconds, with >=, <=, >, < or a range "
        "2024-01..2024-06. Values that are well-formed here but mean nothing (a date that is "
        "not a date, a range ending before it starts) are refused with 400 bad_filter."
    ),
    # null is no filter value: declared without it, the default is never validated
    **{key: (Dates if key in language.DATE_KEYS else Texts, None) for key in language.KEYS},  # type: ignore[call-overload]
)


def _integral(value: object) -> object:
    """JSON Schema counts 5.0 as an integer; so does `k`."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class AskRequest(BaseModel):
    """The body of POST /ask; `ask_request(settings)` gives the class with this server's
    limits and defaults."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "question": "How do I reset my VPN token?",
                "k": 5,
                "filters": {"tag": ["it"]},
                "reader": "auto",
            },
        },
    )

    @property
    def query(self) -> language.Filters:
        filters = getattr(self, "filters", None)
        return filters.query if filters is not None else language.Filters()


def ask_request(settings: Settings) -> type[AskRequest]:
    s = settings
    return _ask_request(s.max_question_chars, s.max_k, s.top_k, s.reader, s.retrieval_mode)


@functools.lru_cache(maxsize=16)
def _ask_request(
    max_chars: int, max_k: int, top_k: int, reader: str, mode: str
) -> type[AskRequest]:
    question = Field(
        strict=True,
        description="The question; not only whitespace.",
        json_schema_extra={"minLength": 1, "pattern": r"\S", "maxLength": max_chars},
    )
    k = Annotated[
        int,
        Field(strict=True, ge=MIN_K, le=max_k, description=f"Chunks to read (default {top_k})."),
        BeforeValidator(_integral),
    ]
    confidence = Field(
        strict=True,
        ge=CONFIDENCE_RANGE[0],
        le=CONFIDENCE_RANGE[1],
        description="Refuse answers whose `score` is below this, instead of the threshold "
        "calibrated for the index (`qa calibrate`).",
    )
    return create_model(  # type: ignore[call-overload, no-any-return]
        "AskRequest",
        __base__=AskRequest,
        question=(str, question),
        k=(k | None, None),
        filters=(Filters | None, None),
        reader=(Annotated[Literal[READERS], Field(description=f"Default: {reader}.")] | None, None),
        mode=(Annotated[Literal[MODES], Field(description=f"Default: {mode}.")] | None, None),
        min_confidence=(Annotated[float, confidence] | None, None),
    )


def _stripped(text: str) -> str:
    if not text.strip():
        raise ValueError("only white space")
    return text.strip()


class FeedbackRequest(BaseModel):
    """The body of POST /feedback."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"answer_id": "k3Jd8s0aQ1xY2bTc", "helpful": False, "answer": "16 weeks"}
        },
    )

    answer_id: str = Field(
        strict=True,
        min_length=1,
        max_length=MAX_ANSWER_ID_CHARS,
        description=f"The `answer_id` of an /ask response (kept {ANSWER_TTL_S // 86400} days).",
    )
    helpful: bool = Field(strict=True, description="Did the answer help?")
    # the right answer, in the user's words (kept as plain text)
    answer: (
        Annotated[
            str,
            Field(
                strict=True,
                min_length=1,
                pattern=r"\S",
                max_length=MAX_CORRECTION_CHARS,
                description="The right answer, if you know it (kept as plain text; learnt "
                "from when it is found word for word in a source).",
            ),
            AfterValidator(_stripped),
        ]
        | None
    ) = None
