"""All settings in one typed object, read from the environment on demand (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from retrieval.choices import MODES, READERS
from retrieval.errors import ConfigError
from retrieval.places import UrlMap, parse_source_urls

DEFAULT_EMBEDDER = "packaged:all-MiniLM-L6-v2"
DEFAULT_SPAN_MODEL = "distilbert/distilbert-base-cased-distilled-squad"
SHIPPED_READER = Path(__file__).parent / "readers" / "shipped"  # installed with the package


def _default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("redis-docqa", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Every knob of the service. `Settings.from_env()` reads `REDIS_URL` and `QA_*`."""

    redis_url: str | None = None
    data_dir: Path = field(default_factory=_default_data_dir)
    index_name: str = "qa:idx"
    key_prefix: str = "qa"
    redis_timeout_s: float = 2.0

    embedding_model: str = DEFAULT_EMBEDDER
    embedding_backend: str = "auto"  # auto | torch | onnx | onnx-int8
    embedding_batch_size: int = 32
    # FLOAT16: half the vector memory, the same hit@5 on COVID-QA and recall at 100k
    # (BENCHMARKS.md). An index records its own type (retrieval/index/layout.py): `qa reindex`.
    vector_type: str = "FLOAT16"  # FLOAT16 | FLOAT32
    # From bench/scale_bench.py (BENCHMARKS.md, scale-bench and scale-bench-sweep). FLOAT16 at
    # 100k: EF_CONSTRUCTION 400 reaches recall@10 0.986 at EF_RUNTIME 200 and 0.998 at 400
    # (200: 0.965, 0.984) for a build 2.3x slower, still >10x faster than embedding; M 48 adds
    # little over M 32, M 16 a little less. EF_RUNTIME 400: at 1M chunks recall@10 0.93 for a
    # KNN p50 of 1.5 ms (100: 0.85, 0.9 ms; 800: 0.96, 2.2 ms; EF_CONSTRUCTION 200: 0.90 at 400).
    hnsw_m: int = 32
    hnsw_ef_construction: int = 400
    hnsw_ef_runtime: int = 400

    chunk_tokens: int = 200
    chunk_overlap_tokens: int = 32

    retrieval_mode: str = "hybrid"  # hybrid | vector | keyword
    top_k: int = 5
    max_k: int = 50
    candidate_pool: int = 40
    # Keyword search may leave out question words held by more than this share of the chunks
    # (retrieval/query/terms.py); 1 asks every word. 0.2 kept hit@5 within 0.01 on COVID-QA and
    # the held-out real questions, but at 1M chunks of COVID-QA text it did not make BM25
    # faster (few words pass 20 %, and counting words costs until cached): off by default.
    keyword_max_share: float = 1.0
    # ...but a word held by at most this many chunks is always asked (0: the share alone).
    keyword_floor: int = 10_000
    # Where BM25 searches in hybrid mode: "index" (every chunk the filters let through) or
    # "candidates" (only the chunks KNN found, `FT.SEARCH ... INKEYS`; its cost follows their
    # number, not how many chunks hold the question's words), with KNN asked for
    # max(QA_KEYWORD_CANDIDATES, QA_CANDIDATE_POOL) chunks for it. At 1M chunks: hybrid p50
    # 5 ms instead of 115, but hit@5 on COVID-QA 0.665 instead of 0.770 (BM25 alone finds
    # chunks KNN does not rank): "index" by default (docs/scaling.md).
    keyword_scope: str = "index"
    keyword_candidates: int = 0
    rrf_k: int = 60
    max_question_chars: int = 1000
    # "FOLDER=URL" pairs: files ingested from FOLDER are linked at URL (retrieval/places.py)
    source_urls: tuple[str, ...] = ()

    reader: str = "auto"  # auto | trained | span | sentence
    span_model: str = DEFAULT_SPAN_MODEL
    span_threshold: float = 0.1
    sentence_threshold: float = 0.35
    retrieval_threshold: float = 0.2  # best cosine below this, and no keyword match: refuse
    answers: int = 3
    refusal_target: float = 0.10  # calibrated index: share of answerable questions refused
    train_minutes: float = 20.0  # `qa train-reader`'s default budget
    train_threads: int = 0  # torch threads for `qa train-reader`; 0: every core
    reader_check_s: float = 10.0  # how often servers look for a newly trained reader
    # Each per-process cache of the hot path (terms, word pairs, sentence vectors) holds at
    # most this many MB (retrieval/lru.py): keyed by texts up to a chunk long, a bound on
    # entries alone let each reach 100-200 MB per web worker on a large index.
    cache_mb: float = 32.0
    # The reader an index without its own answers with (`qa train-reader --general` builds
    # one); "none": the sentence reader answers there.
    shipped_reader: Path | None = SHIPPED_READER

    api_tokens: tuple[str, ...] = ()
    rate_limit: str = "60/minute"
    max_body_bytes: int = 64 * 1024
    request_timeout_s: float = 30.0
    cors_origins: tuple[str, ...] = ()
    proxy_hops: int = 0  # trusted X-Forwarded-For hops in front of the HTTP service

    # Web pages and sync (ingest/web, ingest/sync): politeness and limits per host.
    web_user_agent: str = "redis-docqa/0.1 (document question answering; ingest crawler)"
    web_timeout_s: float = 10.0
    web_max_bytes: int = 10 * 1024 * 1024
    web_concurrency: int = 4  # requests in flight per host
    web_rate: float = 10.0  # requests started per second per host
    web_max_redirects: int = 5
    web_max_pages: int = 1000
    web_max_depth: int = 5
    sources_file: Path = Path("sources.toml")
    sync_max_prune_share: float = 0.3

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str | None = None
    slack_ephemeral: bool = False
    slack_followups: bool = True  # answer thread replies with the thread's question as context
    slack_thread_ttl_s: int = 7 * 24 * 3600  # how long a thread's question is remembered
    slack_scopes: bool = True  # /ask-scope: per-channel default filters
    slack_dm_scope: str = ""  # default filters for DMs, e.g. "source:handbook"
    slack_scope_admins: str = ""  # a user group id (S...) allowed to set scopes, besides admins
    slack_capture: bool = True  # "Add to knowledge" and the asker's ✅ turn replies into documents

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from `REDIS_URL`, `QA_<FIELD>` and `SLACK_*` variables."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(env_name(f.name))
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, f.type, raw)
        values.update(overrides)
        return cls(**values).validated()

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes).validated()

    def validated(self) -> Settings:
        _check(
            self.vector_type in ("FLOAT32", "FLOAT16"), "QA_VECTOR_TYPE must be FLOAT32 or FLOAT16"
        )
        _check(self.retrieval_mode in MODES, f"QA_RETRIEVAL_MODE must be one of {', '.join(MODES)}")
        _check(self.reader in READERS, f"QA_READER must be one of {', '.join(READERS)}")
        _check(
            self.embedding_backend in ("auto", "torch", "onnx", "onnx-int8"),
            "QA_EMBEDDING_BACKEND must be auto, torch, onnx or onnx-int8",
        )
        _check(
            0 <= self.chunk_overlap_tokens < self.chunk_tokens,
            "QA_CHUNK_OVERLAP_TOKENS must be below QA_CHUNK_TOKENS",
        )
        _check(1 <= self.top_k <= self.max_k, "QA_TOP_K must be between 1 and QA_MAX_K")
        _check(
            self.web_concurrency >= 1 and self.web_rate > 0 and self.web_timeout_s > 0,
            "QA_WEB_CONCURRENCY, QA_WEB_RATE and QA_WEB_TIMEOUT_S must be positive",
        )
        _check(
            0 <= self.sync_max_prune_share <= 1,
            "QA_SYNC_MAX_PRUNE_SHARE must be a share between 0 and 1 (0.3 = 30 %)",
        )
        _check(
            0 < self.keyword_max_share <= 1,
            "QA_KEYWORD_MAX_SHARE must be a share above 0 and at most 1 (0.05 = 5 %)",
        )
        _check(
            self.keyword_scope in ("index", "candidates"),
            "QA_KEYWORD_SCOPE must be index or candidates",
        )
        _check(
            self.keyword_candidates >= 0,
            "QA_KEYWORD_CANDIDATES must be a number of chunks, 0 or more",
        )
        _check(self.keyword_floor >= 0, "QA_KEYWORD_FLOOR must be a number of chunks, 0 or more")
        _check(self.cache_mb > 0, "QA_CACHE_MB must be positive (MB per cache, e.g. 32)")
        _check(0 < self.refusal_target < 1, "QA_REFUSAL_TARGET must be between 0 and 1, e.g. 0.1")
        parse_source_urls(self.source_urls)  # a ConfigError names the entry and what is wrong
        return self

    @cached_property
    def url_maps(self) -> tuple[UrlMap, ...]:
        """QA_SOURCE_URLS as folder -> URL pairs, the longest folder first."""
        return parse_source_urls(self.source_urls)


_ENV_NAMES = {
    "redis_url": "REDIS_URL",
    "api_tokens": "QA_API_TOKEN",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_api_url": "SLACK_API_URL",
}


def env_name(name: str) -> str:
    return _ENV_NAMES.get(name, "QA_" + name.upper())


def _parse(name: str, type_: Any, raw: str) -> Any:
    type_ = str(type_)
    try:
        if type_.startswith("int"):
            return int(raw)
        if type_.startswith("float"):
            return float(raw)
        if type_ == "bool":
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if type_ == "Path | None" and raw.strip().lower() in ("none", "off"):
            return None
        if type_ in ("Path", "Path | None"):
            return Path(raw).expanduser()
        if type_.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError as e:
        raise ConfigError(f"{env_name(name)}={raw!r} is not a valid {type_}") from e
    return raw


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)
