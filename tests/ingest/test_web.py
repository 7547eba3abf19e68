"""Web ingestion against a real local site: scope, robots.txt, limits, 304s, prune, outages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from bot.cli import cli
from ingest.pipeline import IngestPipeline
from ingest.web.fetch import Fetcher, SiteUnreachable
from ingest.web.site import WebOptions, ingest_url
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from tests.ingest.site_server import Route, Site

PAGES = {
    "/docs/": ("Handbook", "Welcome to the handbook of the Zephyr team."),
    "/docs/deploy.html": ("Deploying", "Deploys go out every Tuesday at 14:00 via the pipeline."),
    "/docs/vacation.html": ("Vacation", "Every employee gets 27 vacation days per calendar year."),
    "/docs/oncall.html": ("On call", "The on-call rotation hands over on Monday at 09:00."),
}
LINKS = (
    "deploy.html", "vacation.html", "oncall.html", "old-deploy.html", "missing.html",
    "slow.html", "huge.html", "logo.png", "../private/secret.html", "http://other.invalid/x",
)  # fmt: skip


@pytest.fixture()
def site() -> Iterator[Site]:
    site = Site()
    for path, (title, body) in PAGES.items():
        site.page(path, title, body, LINKS if path == "/docs/" else ("./",))
    site.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /docs/private-notes\n", 200,
                                       "text/plain")  # fmt: skip
    site.routes["/docs/old-deploy.html"] = Route(status=301, location="/docs/deploy.html")
    site.routes["/docs/slow.html"] = Route(b"<html><p>late</p></html>", delay=3.0)
    site.routes["/docs/huge.html"] = Route(b"<html><p>" + b"x " * 40_000 + b"</p></html>")
    site.routes["/docs/logo.png"] = Route(b"\x89PNG\r\n\x1a\n\x00\x00binary", 200, "image/png")
    site.routes["/private/secret.html"] = Route(b"<html><p>out of scope</p></html>")
    site.sitemap("/sitemap.xml", ["/docs/deploy.html", "/docs/vacation.html", "/docs/oncall.html"])
    site.start()
    yield site
    site.stop()


@pytest.fixture()
def web_settings(settings: Settings) -> Settings:
    return settings.with_(web_timeout_s=1.0, web_max_bytes=20_000, web_rate=200.0)


def _ingest(pipeline: IngestPipeline, settings: Settings, url: str, **options):
    with Fetcher(settings) as fetcher:
        return ingest_url(pipeline, fetcher, url, WebOptions(**options))


def _urls(pipeline: IngestPipeline) -> set[str]:
    return {d.url for d in pipeline.index.documents()}


def test_crawl_takes_the_pages_in_scope_and_lists_what_it_skipped(site, pipeline, web_settings):
    report = _ingest(pipeline, web_settings, f"{site.url}/docs/", crawl=True)
    assert _urls(pipeline) == {site.url + p for p in PAGES}
    assert report.new == 4
    skipped = {url.removeprefix(site.url): reason for url, reason in report.skipped}
    assert "404" in skipped["/docs/missing.html"]
    assert "too large" in skipped["/docs/huge.html"]
    assert "not HTML, PDF or text" in skipped["/docs/logo.png"]
    same = [u for u, r in skipped.items() if "same page" in r]  # a redirect to a page read
    assert same in (["/docs/old-deploy.html"], ["/docs/deploy.html"])
    assert [(u.removeprefix(site.url), "timed out" in r) for u, r in report.failed] == [
        ("/docs/slow.html", True)
    ]
    assert site.served[("/private/secret.html", 200)] == 0  # outside the start folder


def test_robots_txt_disallowed_pages_are_never_fetched(site, pipeline, web_settings):
    site.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /docs/vacation", 200,
                                       "text/plain")  # fmt: skip
    report = _ingest(pipeline, web_settings, f"{site.url}/docs/", crawl=True, max_depth=1)
    assert site.served[("/docs/vacation.html", 200)] == 0
    assert (f"{site.url}/docs/vacation.html", "disallowed by robots.txt") in report.skipped


def test_unchanged_pages_cost_a_304_and_write_nothing(site, pipeline, web_settings):
    _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml")
    again = _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml")
    assert (again.new, again.updated, again.unchanged, again.chunks) == (0, 0, 3, 0)
    assert site.full_downloads("/docs/deploy.html") == 1
    assert site.served[("/docs/deploy.html", 304)] == 1


def test_max_pages_bounds_a_crawl_and_says_the_crawl_was_cut(site, pipeline, web_settings):
    report = _ingest(pipeline, web_settings, f"{site.url}/docs/", crawl=True, max_pages=2)
    assert report.new + len(report.skipped) + len(report.failed) <= 2
    assert "stopped at --max-pages 2" in report.truncated
    whole = _ingest(pipeline, web_settings, f"{site.url}/docs/", crawl=True, max_pages=100)
    assert whole.truncated == ""


def test_canonical_url_is_the_document_id_and_link(site, pipeline, web_settings):
    site.routes["/docs/print.html"] = Route(
        b'<html><head><link rel="canonical" href="/docs/vacation.html"><title>Vacation</title>'
        b"</head><body><p>Every employee gets 27 vacation days per calendar year.</p></body></html>"
    )
    site.sitemap("/sitemap.xml", ["/docs/print.html", "/docs/vacation.html"])
    report = _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml")
    assert _urls(pipeline) == {f"{site.url}/docs/vacation.html"}
    assert report.new == 1 and len(report.skipped) == 1


def test_a_sitemap_index_is_followed(site, pipeline, web_settings):
    site.routes["/sitemap-index.xml"] = Route(
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap>'
        f"<loc>{site.url}/sitemap.xml</loc></sitemap></sitemapindex>".encode(),
        content_type="application/xml",
    )
    _ingest(pipeline, web_settings, f"{site.url}/sitemap-index.xml")
    assert len(_urls(pipeline)) == 3


def _sources(engine: QAEngine, question: str) -> str:
    answer = engine.ask(question, k=5)
    return " ".join(s["text"] for s in answer.sources)


def test_a_changed_page_is_answered_from_its_new_text_only(
    site, pipeline, web_settings, engine: QAEngine
):
    _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml")
    assert "Tuesday" in _sources(engine, "When do deploys go out?")
    site.page("/docs/deploy.html", "Deploying", "Deploys go out every Thursday at 10:00 now.")
    report = _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml")
    assert report.updated == 1
    text = _sources(engine, "When do deploys go out?")
    assert "Thursday" in text and "Tuesday" not in text


def test_prune_drops_pages_gone_from_the_sitemap_or_answering_404(site, pipeline, web_settings):
    _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml")
    site.sitemap("/sitemap.xml", ["/docs/deploy.html", "/docs/oncall.html"])  # vacation unlisted
    report = _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml", prune=True)
    assert report.pruned == 1
    del site.routes["/docs/oncall.html"]  # still listed, but 404 now
    report = _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml", prune=True)
    assert report.pruned == 1
    assert _urls(pipeline) == {f"{site.url}/docs/deploy.html"}


def test_removed_page_is_never_answered_again(site, pipeline, web_settings, engine: QAEngine):
    _ingest(pipeline, web_settings, f"{site.url}/docs/", crawl=True)
    assert "27 vacation days" in _sources(engine, "How many vacation days do I get?")
    site.routes["/docs/vacation.html"] = Route(b"gone", 410, "text/plain")
    _ingest(pipeline, web_settings, f"{site.url}/docs/", crawl=True, prune=True)
    assert "27 vacation days" not in _sources(engine, "How many vacation days do I get?")


def test_a_site_that_is_down_deletes_nothing(site, pipeline, web_settings):
    _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml")
    site.stop()
    with pytest.raises(SiteUnreachable, match="nothing was changed"):
        _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml", prune=True)
    assert len(_urls(pipeline)) == 3


def test_timeouts_keep_the_last_version_of_a_page(site, pipeline, web_settings):
    _ingest(pipeline, web_settings, f"{site.url}/docs/", crawl=True)
    site.routes["/docs/oncall.html"].delay = 3.0
    report = _ingest(pipeline, web_settings, f"{site.url}/docs/", crawl=True, prune=True)
    assert report.pruned == 0
    assert f"{site.url}/docs/oncall.html" in _urls(pipeline)


def test_too_many_redirects_is_listed_not_followed_forever(site, pipeline, web_settings):
    site.routes["/docs/loop"] = Route(status=302, location="/docs/loop")
    report = _ingest(pipeline, web_settings, f"{site.url}/docs/loop")
    assert report.new == 0
    assert "redirects" in " ".join(r for _, r in report.skipped)


def test_cli_ingests_a_url_and_rejects_crawl_options_without_one(site, cli_env, tmp_path):
    env = {**cli_env, "QA_WEB_RATE": "200", "QA_WEB_TIMEOUT_S": "1", "QA_WEB_MAX_BYTES": "20000"}
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", f"{site.url}/docs/", "--crawl", "--max-depth", "1"],
                           env=env)  # fmt: skip
    assert "4 new" in result.output
    assert "skipped" in result.stderr and "logo.png" in result.stderr
    assert result.exit_code == 1  # the slow page failed
    bad = runner.invoke(cli, ["ingest", str(tmp_path), "--crawl"], env=env)
    assert bad.exit_code == 2 and "URLs only" in bad.output


def test_pages_outside_the_site_are_neither_fetched_nor_ingested(site, pipeline, web_settings):
    port = site.url.rsplit(":", 1)[1]  # the same server under another host name: another site
    site.routes["/docs/away.html"] = Route(status=302, location=f"http://localhost:{port}/docs/")
    site.sitemap("/sitemap.xml", ["/docs/away.html", "/docs/oncall.html"])
    site.routes["/sitemap.xml"].body = site.routes["/sitemap.xml"].body.replace(
        b"</urlset>", b"<url><loc>http://other.invalid/page.html</loc></url></urlset>"
    )
    report = _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml")
    assert _urls(pipeline) == {f"{site.url}/docs/oncall.html"}
    reasons = dict(report.skipped)
    assert reasons["http://other.invalid/page.html"].startswith("outside")
    assert reasons[f"{site.url}/docs/away.html"].startswith("redirected outside")


def test_a_start_url_that_robots_txt_forbids_changes_nothing(site, pipeline, web_settings):
    site.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /\n", 200, "text/plain")
    with pytest.raises(SiteUnreachable, match=r"robots\.txt"):
        _ingest(pipeline, web_settings, f"{site.url}/docs/", crawl=True, prune=True)
    assert site.full_downloads("/docs/") == 0


def test_cli_dry_run_writes_nothing_and_delete_takes_a_page_url(site, cli_env, pipeline):
    env = {**cli_env, "QA_WEB_RATE": "200"}
    runner = CliRunner()
    url = f"{site.url}/docs/vacation.html"
    dry = runner.invoke(cli, ["ingest", url, "--dry-run"], env=env)
    assert dry.exit_code == 0 and "dry run, nothing was written: 1 new" in dry.output
    assert f"would add {url}" in dry.output and "chunks written" not in dry.output
    assert not pipeline.index.exists() or _urls(pipeline) == set()
    shown = runner.invoke(cli, ["ingest", url, "--progress"], env=env)
    assert shown.exit_code == 0 and "1page" in shown.stderr.replace(" ", "")  # the progress bar
    deleted = runner.invoke(cli, ["delete", url], env=env)
    assert deleted.exit_code == 0 and "deleted" in deleted.output
    assert _urls(pipeline) == set()


def test_a_robots_txt_server_error_changes_nothing(site, pipeline, web_settings):
    _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml")
    site.routes["/robots.txt"] = Route(b"busy", 503, "text/plain")
    with pytest.raises(SiteUnreachable, match="503"):
        _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml", prune=True)
    assert len(_urls(pipeline)) == 3


def test_pdf_and_text_are_read_by_content_whatever_the_headers_say(
    site, pipeline, web_settings, tmp_path
):
    from tests.ingest.test_loaders import make_pdf

    pdf = make_pdf(tmp_path / "r.pdf", [["Intro page."], ["The budget is 40,000 EUR."]], "Budget")
    site.routes["/docs/report"] = Route(pdf.read_bytes(), content_type="application/octet-stream")
    site.routes["/docs/notes.txt"] = Route(b"Plain notes.\n\nThe printer is on floor 3.",
                                           content_type="text/plain")  # fmt: skip
    site.sitemap("/sitemap.xml", ["/docs/report", "/docs/notes.txt"])
    report = _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml")
    assert (report.new, report.failed, report.skipped) == (2, [], [])
    hits = pipeline.index.client.execute_command(
        "FT.SEARCH", pipeline.index.schema.name, "budget", "RETURN", 2, "page", "url"
    )
    assert hits[2] == [b"page", b"2", b"url", f"{site.url}/docs/report".encode()]


def test_a_sitemap_cut_by_max_pages_prunes_only_pages_that_are_gone(site, pipeline, web_settings):
    _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml")
    report = _ingest(pipeline, web_settings, f"{site.url}/sitemap.xml", max_pages=1, prune=True)
    assert report.pruned == 0 and len(_urls(pipeline)) == 3
