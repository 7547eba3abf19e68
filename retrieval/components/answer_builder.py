"""Answer composition as a component: the answer, its sources and why it was (not) given."""

from __future__ import annotations

from retrieval.answers.answer import build_answer
from retrieval.components.question_retriever import QuestionRetriever, ms_since
from retrieval.confidence.model import Confidence
from retrieval.query.retriever import Retrieval
from retrieval.readers import Reader, Reading
from retrieval.settings import Settings
from retrieval.types import Answer


class AnswerBuilder:
    """Builds the answer object; counts and near-copy notes come from the retriever's index."""

    def __init__(self, settings: Settings, retrieving: QuestionRetriever) -> None:
        self.settings = settings
        self._retrieving = retrieving

    def warm_up(self) -> AnswerBuilder:
        """Nothing to load: composing reads only what retrieval and reading returned."""
        return self

    def run(
        self,
        retrieval: Retrieval,
        reading: Reading,
        reader: Reader,
        confidence: Confidence,
        started: float,
    ) -> Answer:
        """The answer with its sources, its explanation and the time each step took, the
        total counted from `started` (the ask's `time.perf_counter()`)."""
        return build_answer(
            retrieval=retrieval,
            reader=reader.name,
            reading=reading,
            timings={**retrieval.timings, "total": ms_since(started)},
            count=self._retrieving.retriever.count,
            settings=self.settings,
            confidence=confidence,
            lookup=self._retrieving.index.near_copies.notes,
        )
