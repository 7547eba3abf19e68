"""`qa sync`: bring every named source up to date, safely, one source's failure never the rest's.

Safety first: a source that cannot be reached (a missing folder, a site that is down)
deletes nothing, and a sync that would remove more than a share of a source's documents
(QA_SYNC_MAX_PRUNE_SHARE, 30 % by default) removes nothing and says so unless forced.
Each source's last outcome is kept in Redis, for `qa sources` and for /metrics.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import redis

from ingest.pipeline import IngestPipeline, IngestReport
from ingest.sources import Source, SourceUnreachable
from ingest.web.fetch import Fetcher
from ingest.web.site import WebOptions, ingest_url
from retrieval.errors import QAError
from retrieval.redis.lease import Lease, holder
from retrieval.settings import Settings

log = logging.getLogger("qa.sync")


@dataclass
class SyncResult:
    source: str
    status: str  # "ok" | "failed" (some documents) | "refused" (prune) | "unreachable" | "error"
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    pruned: int = 0
    seconds: float = 0.0
    message: str = ""
    finished: float = 0.0

    @classmethod
    def from_report(cls, source: str, report: IngestReport, seconds: float) -> SyncResult:
        status = "refused" if report.prune_refused else "failed" if report.failed else "ok"
        return cls(
            source,
            status,
            report.new,
            report.updated,
            report.unchanged,
            len(report.failed),
            len(report.skipped),
            report.pruned,
            round(seconds, 2),
            report.prune_refused,
        )

    def line(self) -> str:
        counts = (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.failed} failed, {self.skipped} skipped, {self.pruned} removed"
        )
        tail = f": {self.message}" if self.message else ""
        return f"{self.source}: {self.status} ({counts}; {self.seconds:.1f}s){tail}"


class SyncLog:
    """The last outcome of each source, in one Redis hash."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.key = f"{prefix}:sync"

    def last(self, name: str) -> SyncResult | None:
        raw = self.client.hget(self.key, name)
        return SyncResult(**json.loads(raw)) if raw else None

    def record(self, result: SyncResult) -> SyncResult:
        result.finished = time.time()
        self.client.hset(self.key, result.source, json.dumps(asdict(result)))
        return result


class Syncer:
    """Syncs sources through one pipeline and one fetcher; records outcomes in Redis."""

    def __init__(self, pipeline: IngestPipeline, fetcher: Fetcher, settings: Settings) -> None:
        self.pipeline, self.fetcher, self.settings = pipeline, fetcher, settings
        self.client = pipeline.index.client
        self.prefix = pipeline.index.schema.prefix
        self.log = SyncLog(self.client, self.prefix)
        self._leases: dict[str, Lease] = {}  # each source's lock, as the last round took it

    def sync(self, source: Source, force: bool = False) -> SyncResult:
        """One source; never raises for the source's own problems."""
        # A lease, not a key with a long expiry: a worker killed mid-sync (or whose Redis was
        # restarted under it, so that it could not delete the key) blocks the next sync for
        # a minute at most, not for hours.
        if (previous := self._leases.get(source.name)) is not None:
            previous.release()  # again: a round that lost Redis could not delete its key
        lock = Lease(self.client, f"{self.prefix}:sync-lock:{source.name}", "qa sync")
        self._leases[source.name] = lock
        if not lock.acquire():
            who = holder(self.client.get(lock.key)) or {}
            busy = (
                f"another sync of this source is running (pid {who.get('pid', '?')} on "
                f"{who.get('host', '?')}); try again when it is done"
            )
            return self.log.record(SyncResult(source.name, "error", message=busy))
        started = time.perf_counter()
        try:
            report = self._run(source, force)
            result = SyncResult.from_report(source.name, report, time.perf_counter() - started)
        except SourceUnreachable as e:
            result = SyncResult(source.name, "unreachable", message=str(e))
        except (QAError, redis.ConnectionError, redis.TimeoutError) as e:
            result = SyncResult(source.name, "error", message=f"{e} (nothing was removed)")
        except Exception as e:  # one source's bug must not stop the others
            log.exception("sync of %s failed", source.name)
            result = SyncResult(source.name, "error", message=f"{type(e).__name__}: {e}")
        finally:
            lock.release()
        result.seconds = round(time.perf_counter() - started, 2)
        return self.log.record(result)

    def sync_all(
        self,
        sources: Sequence[Source],
        force: bool = False,
        due_only: bool = False,
        on_result: Callable[[SyncResult], None] | None = None,
    ) -> list[SyncResult]:
        results = []
        for source in sources:
            if due_only and not self.due(source):
                continue
            result = self.sync(source, force)
            log.info(result.line(), extra={"sync": asdict(result)})
            if on_result:
                on_result(result)
            results.append(result)
        return results

    def due(self, source: Source) -> bool:
        last = self.log.last(source.name)
        return last is None or time.time() - last.finished >= source.interval

    def _run(self, source: Source, force: bool) -> IngestReport:
        share = 1.0 if force else self.settings.sync_max_prune_share
        if source.url:
            options = WebOptions(
                crawl=source.crawl,
                max_pages=source.max_pages or self.settings.web_max_pages,
                max_depth=self.settings.web_max_depth
                if source.max_depth is None
                else source.max_depth,
                source=source.name,
                tags=source.tags,
                include=source.include,
                exclude=source.exclude,
                prune=True,
                max_prune_share=share,
            )
            return ingest_url(self.pipeline, self.fetcher, source.url, options)
        assert source.folder is not None
        if not source.folder.is_dir():
            raise SourceUnreachable(
                f"cannot reach folder {source.folder} (missing or unmounted); nothing was removed"
            )
        return self.pipeline.run(
            [source.folder],
            source=source.name,
            tags=source.tags,
            include=source.include,
            exclude=source.exclude,
            prune=True,
            max_prune_share=share,
        )
