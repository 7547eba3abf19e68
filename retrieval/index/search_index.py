"""The RediSearch index itself: creating it (with the channel field where the server can hold
it), checking it holds this model's vectors, reading how it stores them, and FT.INFO,
FT.SEARCH and FT.TAGVALS on it. What it indexes, documents and their chunks: chunks.py."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

from retrieval.errors import IndexMissing, SchemaMismatch
from retrieval.index.fields import CHANNEL_FIELD
from retrieval.index.layout import NEXT, RECORD, CachedLayout, Layout
from retrieval.index.schema import IndexSchema
from retrieval.redis.replies import SearchReply, pairs, parse_search, reachable, text

log = logging.getLogger(__name__)


class SearchIndex:
    """One RediSearch index over chunk hashes, and its meta record (model, layout)."""

    def __init__(self, client: redis.Redis, schema: IndexSchema) -> None:
        self.client = client
        self.schema = schema
        self._layout = CachedLayout()

    # -- index lifecycle -------------------------------------------------------------------

    def exists(self) -> bool:
        names = {text(n) for n in self._call("FT._LIST")}
        return self.schema.name in names or self.layouts()[0].index in names

    # -- how vectors are stored (retrieval/index/layout.py) --------------------------------

    def layout(self, fresh: bool = False) -> Layout:
        """The field and type of this index's vectors (re-read every few seconds)."""
        return self.layouts(fresh)[0]

    def layouts(self, fresh: bool = False) -> tuple[Layout, Layout | None]:
        """The layout in use, and the one a running `qa reindex` is building (or None)."""
        if fresh or not self._layout.fresh():
            with reachable():
                raw = self.client.hgetall(self.schema.meta_key)
            current = Layout.from_record(raw) or self._inferred_layout()
            return self._layout.set((current, Layout.from_record(raw, NEXT)))
        assert self._layout.value is not None
        return self._layout.value

    def _inferred_layout(self) -> Layout:
        """An index made before layouts were recorded: its vector attribute says; no index
        yet: what `ensure` would create."""
        try:
            attributes = self.info().get("attributes", [])
        except IndexMissing:
            return Layout(self.schema.name, "vector", self.schema.vector_type)
        for attribute in map(pairs, attributes):
            if attribute.get("type") == "VECTOR":
                kind = str(attribute.get("data_type") or "FLOAT32").upper()
                return Layout(self.schema.name, str(attribute.get("identifier")), kind)
        return Layout(self.schema.name, "vector", self.schema.vector_type)

    def _record_layout(self) -> None:
        """Write the layout into the meta record, once (the index's creator, or the first
        process of this version to open an older index)."""
        if self.client.hexists(self.schema.meta_key, RECORD["vector_type"]):
            return
        layout = self._inferred_layout()
        for name, value in layout.record().items():
            self.client.hsetnx(self.schema.meta_key, name, value)
        self.layouts(fresh=True)

    def ensure(self) -> None:
        """Create the index on first use; refuse to mix vectors of another model.

        Safe when several ingesters start at once: the one whose FT.CREATE loses sees
        "Index already exists", and only the first model written to the record counts.
        """
        if not self.exists():
            try:
                self._call("FT.CREATE", *self.schema.create_args())
            except redis.ResponseError as e:
                if "already exists" not in str(e).lower():
                    self._create_without_channel_field(e)
        # Also when the index exists: its creator may not have written the record yet.
        if self.client.hsetnx(self.schema.meta_key, "model", self.schema.model):
            self.client.hset(
                self.schema.meta_key, mapping={"dim": self.schema.dim, "created": time.time()}
            )
        self._record_layout()
        self.check_compatible()
        self.add_channel_field()

    def add_channel_field(self) -> bool:
        """Give an index created before private Slack captures its `channel` field (FT.ALTER).

        False where the server cannot hold it (INDEXMISSING needs RediSearch 2.10+).
        """
        names = {pairs(a).get("attribute") for a in self.info().get("attributes", [])}
        if CHANNEL_FIELD[0] in names:
            return True
        try:
            self._call("FT.ALTER", self.schema.name, "SCHEMA", "ADD", *CHANNEL_FIELD)
        except redis.ResponseError as e:
            if "duplicate" in str(e).lower():  # another process added it first
                return True
            log.warning("index %s cannot hold private captures: %s", self.schema.name, e)
            return False
        return True

    def _create_without_channel_field(self, error: redis.ResponseError) -> None:
        """A server older than RediSearch 2.10 refuses INDEXMISSING: index without the field."""
        args = self.schema.create_args()
        at = args.index(CHANNEL_FIELD[0])
        try:
            self._call("FT.CREATE", *args[:at], *args[at + len(CHANNEL_FIELD) :])
        except redis.ResponseError:
            raise error from None
        log.warning("index %s created without the channel field: %s", self.schema.name, error)

    def check_compatible(self) -> None:
        stored_dim, stored_model = self.stored_model()
        if stored_dim != self.schema.dim or (stored_model and stored_model != self.schema.model):
            raise SchemaMismatch(
                f"index '{self.schema.name}' holds vectors of model '{stored_model}' (dimension "
                f"{stored_dim}), but this run embeds with '{self.schema.model}' (dimension "
                f"{self.schema.dim}). Set QA_EMBEDDING_MODEL back to '{stored_model}', or run "
                "`qa index drop` and ingest again, or use another QA_INDEX_NAME."
            )

    def stored_model(self) -> tuple[int, str]:
        info = self.info()
        dim = 0
        for attribute in info.get("attributes", []):
            attr = pairs(attribute)
            if attr.get("type") == "VECTOR":
                dim = int(attr.get("dim") or attr.get("dimension") or 0)
        model = text(self.client.hget(self.schema.meta_key, "model") or b"")
        return dim, model

    def info(self) -> dict[str, Any]:
        with self._index_exists():
            return pairs(self._call("FT.INFO", self.schema.name))

    def search(
        self, query: str, *args: Any, scores: bool = False, content: bool = True
    ) -> SearchReply:
        """FT.SEARCH on this index (query dialect 2), parsed; `args` are FT.SEARCH options."""
        options = [*(["WITHSCORES"] if scores else []), *([] if content else ["NOCONTENT"])]
        with self._index_exists():
            reply = self._call("FT.SEARCH", self.schema.name, query, *options, *args, "DIALECT", 2)
        return parse_search(reply, scores, content)

    @contextmanager
    def _index_exists(self) -> Iterator[None]:
        try:
            yield
        except redis.ResponseError as e:
            if "unknown index" in str(e).lower() or "no such index" in str(e).lower():
                raise IndexMissing(
                    f"no index '{self.schema.name}' yet: run `qa ingest PATH` first"
                ) from e
            raise

    def tag_values(self, field: str) -> list[str]:
        """Distinct values of a TAG field (lower-cased by RediSearch), sorted."""
        return sorted(text(v) for v in self._call("FT.TAGVALS", self.schema.name, field))

    def count_chunks(self) -> int:
        return int(self.info().get("num_docs", 0))

    def _call(self, *args: Any) -> Any:
        with reachable():
            return self.client.execute_command(*args)
