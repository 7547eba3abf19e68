"""Crawling speed: a local site of ~500 pages crawled and ingested, against embedding alone.

    .venv/bin/python -m bench.crawl_bench [--pages 500] [--rate 1000] [--concurrency 4]

The site is made from COVID-QA's article text (~1,600 characters a page, ten section pages
linking to their pages, each page to its neighbours) and served by `python -m http.server`
in another process on 127.0.0.1. (a) `qa ingest URL --crawl` from the home page; (b) the
same chunk texts embedded alone, before and after (a); (c) the crawl again, unchanged (every
page answers 304). Fetching and parsing should hide behind the model: (a) >= 0.9 of (b).
"""

from __future__ import annotations

import html
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/crawl_bench.py` rather than with -m
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._env import bench_parser, bench_settings, data_path
from bench._report import header, markdown_table, publish, record_start, verdict
from ingest.chunker import Chunker
from ingest.pipeline import IngestPipeline
from ingest.web.fetch import Fetched, Fetcher
from ingest.web.pages import page_from
from ingest.web.site import WebOptions, ingest_url
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from retrieval.training.squad import load_squad

TARGET_RATIO = 0.90
PAGE_CHARS = 1600
SECTIONS = 10


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--pages", type=int, default=500, help="article pages in the site")
    parser.add_argument("--rate", type=float, default=1000.0, help="requests/s per host")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args(argv)
    record_start()
    with tempfile.TemporaryDirectory(prefix="qa-site-") as folder:
        pages = build_site(Path(folder), data_path(args.data), args.pages)
        with LocalSite(Path(folder)) as base, bench_settings(args.redis_url) as settings:
            settings = settings.with_(web_rate=args.rate, web_concurrency=args.concurrency)
            result = run(settings, base, Path(folder), pages)
    publish("crawl-bench", render(result, settings), result, args.json_out, not args.no_write)


def build_site(root: Path, data: Path, n_pages: int) -> list[str]:
    """Write the site; returns the article pages' paths."""
    texts = [c.text for c in load_squad(data).contexts]
    bodies = [t[i : i + PAGE_CHARS] for t in texts for i in range(0, len(t), PAGE_CHARS)]
    bodies = [b for b in bodies if len(b) > PAGE_CHARS // 2][:n_pages]
    paths = [f"s{i % SECTIONS}/p{i}.html" for i in range(len(bodies))]
    for i, (path, body) in enumerate(zip(paths, bodies, strict=True)):
        near = [paths[j] for j in (i - 1, i + 1) if 0 <= j < len(paths)]
        paras = [body[k : k + 400] for k in range(0, len(body), 400)]
        main = f"<h1>Page {i}</h1>" + "".join(
            f"<h2>Part {k + 1}</h2><p>{html.escape(p)}</p>" for k, p in enumerate(paras)
        )
        _write(root / path, f"Page {i}", [f"/{p}" for p in near], main)
    for s in range(SECTIONS):
        mine = [p for p in paths if p.startswith(f"s{s}/")]
        items = "".join(f'<li><a href="/{p}">{p}</a></li>' for p in mine)
        _write(root / f"s{s}/index.html", f"Section {s}", ["/index.html"],
               f"<h1>Section {s}</h1><p>Pages of section {s}.</p><ul>{items}</ul>")  # fmt: skip
    sections = "".join(f'<li><a href="/s{s}/index.html">Section {s}</a></li>' for s in range(10))
    _write(root / "index.html", "Home", [], f"<h1>Home</h1><p>All sections.</p><ul>{sections}</ul>")
    return paths


def _write(path: Path, title: str, nav: list[str], main: str) -> None:
    links = "".join(f'<a href="{u}">{u}</a>' for u in nav)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<!doctype html><html><head><title>{title}</title></head><body><nav>{links}</nav>"
        f"<main>{main}</main><footer>generated</footer></body></html>",
        encoding="utf-8",
    )


class LocalSite:
    """`python -m http.server` on a free loopback port, in its own process."""

    def __init__(self, root: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
             "--directory", str(root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def __enter__(self) -> str:
        for _ in range(100):  # bounded: 10 s at most
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return f"http://127.0.0.1:{self.port}"
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the local site did not start")

    def __exit__(self, *_: object) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def run(settings: Settings, base: str, root: Path, paths: list[str]) -> dict:
    engine = QAEngine(settings)
    embedder = engine.embedder.warm_up()
    chunker = Chunker(
        settings.chunk_tokens, settings.chunk_overlap_tokens, embedder.max_tokens,
        embedder.count_tokens,
    )  # fmt: skip
    pipeline = IngestPipeline(engine.index, embedder, chunker)
    texts = _same_texts(root, base, chunker)
    embedder.embed(texts[:64])  # untimed warm-up
    embed_s = [_timed(lambda: embedder.embed(texts))]
    options = WebOptions(crawl=True, max_pages=len(paths) + 100, max_depth=5)
    with Fetcher(settings) as fetcher:
        first = ingest_url(pipeline, fetcher, f"{base}/index.html", options)
    embed_s.append(_timed(lambda: embedder.embed(texts)))
    with Fetcher(settings) as fetcher:
        again = ingest_url(pipeline, fetcher, f"{base}/index.html", options)
    return {
        "pages": first.new, "chunks": first.chunks, "failed": len(first.failed),
        "crawl_s": first.seconds, "fetch_s": first.fetch_seconds,
        "parse_s": first.parse_seconds, "embed_in_crawl_s": first.embed_seconds,
        "embed_only_chunks": len(texts), "embed_s": embed_s,
        "again_s": again.seconds, "again_unchanged": again.unchanged,
        "rate": settings.web_rate, "concurrency": settings.web_concurrency,
        "model": embedder.identity, "backend": settings.embedding_backend,
    }  # fmt: skip


def _same_texts(root: Path, base: str, chunker: Chunker) -> list[str]:
    """The embedding texts of every page, parsed exactly as the crawler parses them."""
    texts = []
    for path in sorted(root.rglob("*.html")):
        url = f"{base}/{path.relative_to(root).as_posix()}"
        fetched = Fetched(url, url, 200, "text/html", path.read_bytes())
        doc = page_from(fetched, f"{base}/", "", ()).document
        texts += [c.embedding_text() for c in chunker.chunk(doc)] if doc else []
    return texts


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def render(r: dict, settings: Settings) -> str:
    crawl_rate = r["chunks"] / r["crawl_s"]
    before, after = (r["embed_only_chunks"] / s for s in r["embed_s"])
    embed_rate = (before + after) / 2
    ratio = crawl_rate / embed_rate
    wall = r["crawl_s"]
    rows = [
        ("pages ingested (failed)", f"{r['pages']} ({r['failed']})", ""),
        ("chunks", r["chunks"], f"embedding-only set: {r['embed_only_chunks']}"),
        ("(a) crawl + ingest, seconds", f"{wall:.1f}", ""),
        ("(a) pages/s", f"{r['pages'] / wall:.1f}", ""),
        ("(a) chunks/s", f"{crawl_rate:.1f}", ""),
        ("(a) time in fetching (summed over threads, overlaps)",
         f"{r['fetch_s']:.1f} s ({r['fetch_s'] / wall:.0%} of wall)", "behind the model"),
        ("(a) time in parsing (summed over threads, overlaps)",
         f"{r['parse_s']:.1f} s ({r['parse_s'] / wall:.0%} of wall)", "behind the model"),
        ("(a) time in embedding", f"{r['embed_in_crawl_s']:.1f} s "
         f"({r['embed_in_crawl_s'] / wall:.0%} of wall)", ""),
        ("(b) embedding alone chunks/s: mean (before / after)",
         f"{embed_rate:.1f} ({before:.1f} / {after:.1f})", ""),
        ("crawl / embedding speed", f"{ratio:.2f}",
         f">= {TARGET_RATIO:.2f}: {verdict(ratio >= TARGET_RATIO)}"),
        ("(c) unchanged re-crawl: seconds, pages/s (all 304)",
         f"{r['again_s']:.1f}, {r['again_unchanged'] / r['again_s']:.0f}",
         f"{r['again_unchanged']} unchanged"),
    ]  # fmt: skip
    extra = [
        f"Site: {r['pages']} pages on `python -m http.server` (another process, 127.0.0.1), "
        f"made from COVID-QA text; crawl from the home page, depth <= 5",
        f"Politeness: {r['concurrency']} requests in flight, {r['rate']:g} requests/s per host "
        f"(the default QA_WEB_RATE is {Settings().web_rate:g}/s: on a real site that limit, "
        "not the crawler, sets the pace)",
        f"Embedder: {r['model']}, backend setting `{r['backend']}`",
    ]
    lines = header("Crawling: a local site (`bench/crawl_bench.py`)", extra)
    return "\n".join(lines + markdown_table(("measure", "value", "target / note"), rows))


if __name__ == "__main__":
    main()
