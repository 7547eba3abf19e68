"""Each source's last sync as Prometheus metrics, read from Redis when scraped.

The sync worker and the HTTP service are different processes; reading the outcomes the
worker keeps in Redis lets either one's /metrics show them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from retrieval.errors import QAError

_COUNTS = ("new", "updated", "unchanged", "failed", "skipped", "pruned")
STATUSES = ("ok", "failed", "refused", "unreachable", "error")


class SyncCollector(Collector):
    def __init__(self, client: Callable[[], redis.Redis], prefix: str) -> None:
        self.client = client
        self.key = f"{prefix}:sync"

    def collect(self) -> Iterator[GaugeMetricFamily]:
        docs = GaugeMetricFamily(
            "qa_sync_documents",
            "Documents per outcome in the last sync of a source.",
            labels=["source", "outcome"],
        )
        finished = GaugeMetricFamily(
            "qa_sync_last_finished_seconds",
            "When the last sync of a source ended (unix time).",
            labels=["source"],
        )
        status = GaugeMetricFamily(
            "qa_sync_status",
            "1 for the status of the last sync of a source.",
            labels=["source", "status"],
        )
        for name, record in self._records():
            for outcome in _COUNTS:
                docs.add_metric([name, outcome], float(record.get(outcome, 0)))
            finished.add_metric([name], float(record.get("finished", 0)))
            for s in STATUSES:
                status.add_metric([name, s], 1.0 if record.get("status") == s else 0.0)
        yield from (docs, finished, status)

    def _records(self) -> list[tuple[str, dict]]:
        try:
            raw = self.client().hgetall(self.key)
        except (redis.RedisError, OSError, QAError):  # a scrape must not fail with Redis away
            return []
        return sorted((k.decode(), json.loads(v)) for k, v in raw.items())
