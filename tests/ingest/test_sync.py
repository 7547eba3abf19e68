"""`qa sync` keeps named sources in step: changes in, removals out, and never a rash delete."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client import CollectorRegistry, generate_latest

from bot.cli import cli
from bot.http import create_app
from ingest.pipeline import IngestPipeline
from ingest.sources import Source, load_sources, parse_interval
from ingest.sync import Syncer
from ingest.sync_metrics import SyncCollector
from ingest.web.fetch import Fetcher
from retrieval.engine import QAEngine
from retrieval.errors import ConfigError
from retrieval.settings import Settings
from tests.ingest.site_server import Route, Site

FACTS = {
    "deploy": "Deploys go out every Tuesday at 14:00 through the release pipeline.",
    "leave": "Every employee gets 27 vacation days per calendar year.",
    "oncall": "The on-call rotation hands over on Monday at 09:00 sharp.",
    "laptops": "New laptops are ordered through the IT portal and arrive within a week.",
}


@pytest.fixture()
def site() -> Iterator[Site]:
    site = Site()
    for name, fact in FACTS.items():
        site.page(f"/kb/{name}.html", name.title(), fact)
    site.sitemap("/sitemap.xml", [f"/kb/{n}.html" for n in FACTS])
    yield site.start()
    site.stop()


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "handbook"
    docs.mkdir()
    for name, fact in FACTS.items():
        (docs / f"{name}.md").write_text(f"# {name.title()}\n\n{fact}\n", encoding="utf-8")
    return docs


@pytest.fixture()
def syncer(pipeline: IngestPipeline, settings: Settings) -> Iterator[Syncer]:
    settings = settings.with_(web_rate=200.0, web_timeout_s=2.0)
    with Fetcher(settings) as fetcher:
        yield Syncer(pipeline, fetcher, settings)


def _answer_text(engine: QAEngine, question: str) -> str:
    return " ".join(s["text"] for s in engine.ask(question, k=5).sources)


def _count(pipeline: IngestPipeline, source: str) -> int:
    return sum(1 for d in pipeline.index.documents() if d.source == source)


def test_sources_file_declares_folders_and_sites(tmp_path: Path):
    path = tmp_path / "sources.toml"
    path.write_text(
        '[sources.handbook]\nfolder = "docs"\ntags = ["hr"]\ninterval = "30m"\n'
        '[sources.site]\nurl = "https://docs.example.com/sitemap.xml"\nexclude = "*/old/*"\n',
        encoding="utf-8",
    )
    handbook, site = load_sources(path)
    assert handbook == Source("handbook", folder=tmp_path / "docs", tags=("hr",), interval=1800)
    assert site.url.endswith("sitemap.xml") and site.exclude == ("*/old/*",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[sources.a]\nfolder = "x"\nurl = "http://h/"\n', "exactly one of"),
        ('[sources.a]\nfolder = "x"\ncolour = 1\n', "unknown key"),
        ('[sources.a]\nurl = "ftp://h/"\n', "http"),
        ('[sources.a]\nfolder = "x"\ninterval = "soon"\n', "not a duration"),
        ("[other]\n", "declares no sources"),
        ("[sources.a\n", "not valid TOML"),
    ],
)
def test_mistakes_in_the_sources_file_say_which_source_and_key(tmp_path, text, message):
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_sources(path)


def test_intervals_read_like_durations():
    assert [parse_interval(t) for t in ("90", "45s", "30m", "6h", "1d")] == [
        90,
        45,
        1800,
        21600,
        86400,
    ]


def test_folder_sync_brings_in_changes_and_removes_deleted_files(syncer, folder, engine):
    source = Source("handbook", folder=folder)
    assert syncer.sync(source).new == 4
    (folder / "deploy.md").write_text("# Deploy\n\nDeploys go out every Thursday.\n", "utf-8")
    (folder / "laptops.md").unlink()
    result = syncer.sync(source)
    assert (result.status, result.updated, result.pruned) == ("ok", 1, 1)
    text = _answer_text(engine, "When do deploys go out?")
    assert "Thursday" in text and "Tuesday" not in text
    assert "IT portal" not in _answer_text(engine, "How do I order a new laptop?")


def test_a_sync_removing_more_than_the_safe_share_stops_unless_forced(syncer, folder, pipeline):
    source = Source("handbook", folder=folder)
    syncer.sync(source)
    for name in ("deploy", "leave"):
        (folder / f"{name}.md").unlink()
    refused = syncer.sync(source)
    assert refused.status == "refused" and "2 of 4" in refused.message
    assert _count(pipeline, "handbook") == 4
    forced = syncer.sync(source, force=True)
    assert (forced.status, forced.pruned) == ("ok", 2)


def test_a_missing_folder_deletes_nothing(syncer, folder, pipeline, tmp_path):
    syncer.sync(Source("handbook", folder=folder))
    folder.rename(tmp_path / "unmounted")
    result = syncer.sync(Source("handbook", folder=folder), force=True)
    assert result.status == "unreachable"
    assert _count(pipeline, "handbook") == 4


def test_site_sync_answers_the_new_text_and_never_the_removed_page(syncer, site, engine):
    source = Source("kb", url=f"{site.url}/sitemap.xml")
    assert syncer.sync(source).new == 4
    assert "27 vacation days" in _answer_text(engine, "How many vacation days do I get?")
    site.page("/kb/deploy.html", "Deploy", "Deploys go out every Thursday at 10:00 now.")
    site.routes["/kb/leave.html"] = Route(b"gone", 404, "text/plain")
    result = syncer.sync(source)
    assert (result.status, result.updated, result.unchanged, result.pruned) == ("ok", 1, 2, 1)
    deploys = _answer_text(engine, "When do deploys go out?")
    assert "Thursday" in deploys and "Tuesday" not in deploys
    assert "27 vacation days" not in _answer_text(engine, "How many vacation days do I get?")


def test_a_site_that_is_down_deletes_nothing_and_the_other_sources_still_sync(
    syncer, site, folder, pipeline
):
    kb = Source("kb", url=f"{site.url}/sitemap.xml")
    syncer.sync(kb)
    site.stop()
    results = syncer.sync_all([kb, Source("handbook", folder=folder)], force=True)
    assert [(r.source, r.status) for r in results] == [("kb", "unreachable"), ("handbook", "ok")]
    assert _count(pipeline, "kb") == 4 and _count(pipeline, "handbook") == 4


def test_sync_outcomes_are_exported_as_metrics(syncer, folder, settings, engine, redis_client):
    syncer.sync(Source("handbook", folder=folder))
    registry = CollectorRegistry()
    registry.register(SyncCollector(lambda: redis_client, settings.key_prefix))
    text = generate_latest(registry).decode()
    assert 'qa_sync_documents{outcome="new",source="handbook"} 4.0' in text
    assert 'qa_sync_status{source="handbook",status="ok"} 1.0' in text
    page = create_app(settings, engine, warm=False).test_client().get("/metrics").text
    assert 'qa_sync_documents{outcome="new",source="handbook"} 4.0' in page


def test_cli_sync_and_sources(cli_env, folder, site, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[sources.handbook]\nfolder = "{folder}"\ninterval = "1h"\n'
        f'[sources.kb]\nurl = "{site.url}/sitemap.xml"\n',
        encoding="utf-8",
    )
    env = {**cli_env, "QA_SOURCES_FILE": str(sources), "QA_WEB_RATE": "200"}
    runner = CliRunner()
    first = runner.invoke(cli, ["sync"], env=env)
    assert first.exit_code == 0, first.output
    assert "handbook: ok (4 new" in first.output and "kb: ok (4 new" in first.output
    listed = runner.invoke(cli, ["sources"], env=env)
    assert "handbook: folder" in listed.output and "every 1h" in listed.output
    assert "last sync: 20" in listed.output
    as_json = json.loads(runner.invoke(cli, ["sources", "--json"], env=env).output)
    assert [(s["name"], s["kind"], s["last_sync"]["new"]) for s in as_json] == [
        ("handbook", "folder", 4),
        ("kb", "web", 4),
    ]
    looped = runner.invoke(cli, ["sync", "--every", "1s", "--rounds", "2"], env=env)
    assert looped.exit_code == 0, looped.output
    assert looped.stdout.count("kb: ok") == 2  # no interval: every round
    assert looped.stdout.count("handbook: ok") == 0  # hourly: synced a moment ago
    unknown = runner.invoke(cli, ["sync", "nope"], env=env)
    assert unknown.exit_code == 2 and "known: handbook, kb" in unknown.output
