"""Fixtures for the HTTP service: the real engine over the session's Redis, a few documents,
and apps built by the real factory (settings -> engine -> app -> client).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
import pytest

from bot.http import create_app
from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from retrieval.types import DocMeta
from tests.corpus import KEY_TEXT, LEAVE_TEXT

DOCUMENTS = [
    Document(DocMeta("keys", "Rotating the API key", "handbook", ("security",),
                     "https://wiki.example.com/handbook/api-keys", created=1704067200.0),
             KEY_TEXT),
    Document(DocMeta("leave", "Paid leave", "hr-portal", ("hr",),
                     "https://wiki.example.com/handbook/leave", created=1717200000.0),
             LEAVE_TEXT),
]  # fmt: skip
KEY_QUESTION = "How long does the old API key keep working after a rotation?"


@pytest.fixture()
def handbook(pipeline: IngestPipeline) -> None:
    """Two small documents with sources, tags and dates, ingested through the real pipeline."""
    pipeline.ingest(DOCUMENTS)


@pytest.fixture()
def make_app(settings: Settings, engine: QAEngine) -> Callable[..., flask.Flask]:
    """Apps over the same engine with some HTTP settings changed (tokens, limits...)."""

    def make(**changes: Any) -> flask.Flask:
        return create_app(settings.with_(**changes), engine)

    return make


@pytest.fixture()
def app(make_app: Callable[..., flask.Flask], handbook: None) -> flask.Flask:
    return make_app()


@pytest.fixture()
def client(app: flask.Flask) -> flask.testing.FlaskClient:
    return app.test_client()
