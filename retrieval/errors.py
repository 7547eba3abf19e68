"""One error family. Every message says what the user can do about it."""

from __future__ import annotations


class QAError(Exception):
    """Base class for errors a user can act on."""

    code = "qa_error"
    status = 500


class ConfigError(QAError):
    code = "bad_configuration"
    status = 500


class RedisUnavailable(QAError):
    code = "redis_unavailable"
    status = 503


class SearchModuleMissing(QAError):
    code = "search_module_missing"
    status = 503


class IndexMissing(QAError):
    code = "index_missing"
    status = 503


class SchemaMismatch(QAError):
    code = "index_schema_mismatch"
    status = 409


class FilterError(QAError):
    code = "bad_filter"
    status = 400


class InvalidQuestion(QAError):
    code = "bad_question"
    status = 400


class ModelUnavailable(QAError):
    code = "model_unavailable"
    status = 503


class ReaderNotTrained(ModelUnavailable):
    """The trained reader was asked for by name, but nobody has trained one for this index.

    A state of the index the caller can change (`qa train-reader`, or another reader), not an
    outage: 409, where a model that fails to load is a 503.
    """

    code = "reader_not_trained"
    status = 409


class ConcurrentUpdate(QAError):
    code = "concurrent_update"
    status = 409
