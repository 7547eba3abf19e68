"""`qa ingest URL`: a page, a sitemap or a crawled site prefix into the index, kept in step.

The guarantees of a folder ingest hold: unchanged pages cost one 304 (or nothing is
written when the text is the same), changed ones are switched atomically, pages that cannot
be read are reported and keep their last version. `--prune` removes the site's pages that
are gone: answering 404/410, or (after a complete crawl or sitemap read) no longer found.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ingest.document import Document, LoadError, doc_id_for
from ingest.pipeline import IngestPipeline, IngestReport, prune_stale
from ingest.web.crawl import Crawler, Plan, Visit, plan
from ingest.web.fetch import Fetched, Fetcher
from ingest.web.pages import Page, in_scope, normalise, page_from
from ingest.web.state import FetchState, Seen


@dataclass
class WebOptions:
    crawl: bool = False
    max_pages: int = 1000
    max_depth: int = 5
    scope: str = ""  # default: the start URL's folder, or the sitemap's site
    source: str = ""
    tags: Sequence[str] = ()
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    prune: bool = False
    dry_run: bool = False
    max_prune_share: float = 1.0
    on_page: Callable[[str], None] | None = None  # after each URL (progress bars)


@dataclass
class _Outcome:
    """What the crawl learnt, for --prune and for the validators saved afterwards."""

    gone: set[str] = field(default_factory=set)  # URLs answering 404/410
    keep: set[str] = field(default_factory=set)  # doc ids to keep whatever (errors for now)
    transient: bool = False  # some page failed for now: the crawl did not see everything
    validators: dict[str, tuple[str, Seen]] = field(default_factory=dict)  # url -> (doc, seen)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SiteIngest:
    """One run over one start URL."""

    def __init__(self, pipeline: IngestPipeline, fetcher: Fetcher, options: WebOptions) -> None:
        self.pipeline, self.fetcher, self.options = pipeline, fetcher, options
        prefix = pipeline.index.schema.prefix
        self.state = FetchState(pipeline.index.client, prefix, pipeline.fingerprint)
        self.outcome = _Outcome()

    def run(self, url: str, report: IngestReport | None = None) -> IngestReport:
        report = report if report is not None else IngestReport()
        self.report, started = report, time.perf_counter()
        o = self.options
        the_plan = plan(self.fetcher, url, o.max_pages, o.scope)  # raises if unreachable
        crawler = Crawler(
            self.fetcher,
            self._visit,
            scope=the_plan.scope,
            max_pages=o.max_pages,
            max_depth=o.max_depth if o.crawl else 0,
            follow=o.crawl,
            include=o.include,
            exclude=o.exclude,
        )
        self.scope = the_plan.scope
        seen: set[str] = set()
        self.pipeline.ingest(
            self._documents(crawler, the_plan, report, seen), report, seen, dry_run=o.dry_run
        )
        if crawler.truncated or the_plan.truncated:
            report.truncated = (
                f"stopped at --max-pages {o.max_pages}: {the_plan.scope} has more pages; "
                "raise --max-pages (or QA_WEB_MAX_PAGES) to read them"
            )
        if not o.dry_run:
            self._save_validators(report)
            if o.prune:
                self._prune(the_plan, crawler, seen, report)
        report.seconds = time.perf_counter() - started
        return report

    def _documents(
        self, crawler: Crawler, the_plan: Plan, report: IngestReport, seen: set[str]
    ) -> Iterator[Document]:
        for visit in crawler.run(the_plan.seeds):
            if self.options.on_page:
                self.options.on_page(visit.url)
            if visit.failed:
                report.failed.append((visit.url, visit.failed))
            elif visit.skipped:
                report.skipped.append((visit.url, visit.skipped))
            elif isinstance(visit.result, Seen):  # 304 Not Modified
                seen.add(visit.result.doc_id)
                report.unchanged += 1
            elif isinstance(visit.result, Page) and visit.result.document is not None:
                doc = visit.result.document
                if doc.doc_id in seen:  # another URL of a page already read
                    report.skipped.append((visit.url, f"same page as {doc.meta.url}"))
                    continue
                yield doc

    def _visit(self, url: str, depth: int) -> Visit:
        """Runs on the crawl pool: fetch (conditionally when we can), then parse."""
        started = time.perf_counter()
        known = self.state.get(url)
        if known and self.pipeline.index.stored(known.doc_id) is None:
            known = None  # the document is gone from the index: fetch it in full
        fetched = self.fetcher.get(url, *((known.etag, known.last_modified) if known else ()))
        self._time("fetch_seconds", started)
        visit = Visit(url, depth, fetched)
        if fetched.not_modified and known:
            visit.result, visit.links = known, list(known.links)
        elif fetched.gone:
            with self.outcome.lock:
                self.outcome.gone.add(url)
            visit.skipped = f"{fetched.error} (gone)"
        elif not in_scope(normalise(fetched.final_url or url), self.scope):
            visit.skipped = f"redirected outside {self.scope} (to {fetched.final_url})"
        elif fetched.error:
            self._keep(url, fetched.transient)
            if fetched.transient:
                visit.failed = fetched.error
            else:
                visit.skipped = fetched.error
        else:
            started = time.perf_counter()
            self._parse(visit, fetched)
            self._time("parse_seconds", started)
        return visit

    def _time(self, what: str, started: float) -> None:
        with self.outcome.lock:
            setattr(self.report, what, getattr(self.report, what) + time.perf_counter() - started)

    def _parse(self, visit: Visit, fetched: Fetched) -> None:
        o = self.options
        try:
            page = page_from(fetched, self.scope, o.source, tuple(o.tags))
        except LoadError as e:
            self._keep(visit.url, False)
            visit.failed = e.reason
            return
        visit.result, visit.links, visit.skipped = page, page.links, page.skipped
        if page.document is not None:
            doc = page.document
            seen = Seen(doc.doc_id, fetched.etag, fetched.last_modified, tuple(page.links))
            with self.outcome.lock:
                self.outcome.validators[visit.url] = (doc.meta.path, seen)

    def _keep(self, url: str, transient: bool) -> None:
        """A page that failed for now keeps its last version; a timeout makes the view partial."""
        with self.outcome.lock:
            self.outcome.keep.add(doc_id_for(normalise(url)))
            self.outcome.transient = self.outcome.transient or transient

    def _save_validators(self, report: IngestReport) -> None:
        failed = {path for path, _ in report.failed}
        for url, (path, seen) in self.outcome.validators.items():
            if path not in failed and (seen.etag or seen.last_modified or seen.links):
                self.state.put(url, seen)
        for url in self.outcome.gone:
            self.state.forget(url)

    def _prune(self, the_plan: Plan, crawler: Crawler, seen: set[str], report: IngestReport):
        inside = [d for d in self.pipeline.index.documents() if d.path.startswith(self.scope)]
        gone_ids = {doc_id_for(normalise(u)) for u in self.outcome.gone}
        complete = (the_plan.sitemap or self.options.crawl) and not crawler.truncated
        complete = complete and not the_plan.truncated
        if complete and not self.outcome.transient:
            stale = [d.doc_id for d in inside if d.doc_id not in seen]
        else:  # a partial view: only what the site itself says is gone
            stale = [d.doc_id for d in inside if d.doc_id in gone_ids or d.url in self.outcome.gone]
        stale = [s for s in stale if s not in self.outcome.keep]
        prune_stale(self.pipeline.index, stale, len(inside), self.options.max_prune_share, report)


def ingest_url(
    pipeline: IngestPipeline, fetcher: Fetcher, url: str, options: WebOptions
) -> IngestReport:
    """Ingest one start URL (see WebOptions); raises SiteUnreachable when it cannot be reached."""
    return SiteIngest(pipeline, fetcher, options).run(url)
