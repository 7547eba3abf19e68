"""Loaders turn every supported format into readable text with exact block offsets."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from ingest.document import Document, LoadError, NotContent, doc_id_for
from ingest.loaders import SUPPORTED_SUFFIXES, iter_files, load_path
from ingest.loaders.html import clean_heading


def check_blocks(doc: Document) -> None:
    assert doc.blocks, "a loaded document always has blocks"
    for b in doc.blocks:
        assert 0 <= b.start < b.end <= len(doc.text), b
        assert doc.text[b.start : b.end].strip(), b


def load_one(path: Path, **kwargs: object) -> Document:
    docs = list(load_path(path, **kwargs))
    assert len(docs) == 1
    check_blocks(docs[0])
    return docs[0]


def block_texts(doc: Document, kind: str | None = None) -> list[str]:
    return [doc.text[b.start : b.end] for b in doc.blocks if kind is None or b.kind == kind]


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def make_pdf(path: Path, pages: list[list[str]], title: str | None = None) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    if title:
        c.setTitle(title)
    for lines in pages:
        y = 800
        for line in lines:
            if line:
                c.drawString(72, y, line)
            y -= 40 if not line else 16
        c.showPage()
    c.save()
    return path


# -- plain text ---------------------------------------------------------------------------


def test_text_file_is_split_into_paragraphs_with_stem_title_and_file_metadata(tmp_path: Path):
    path = write(tmp_path / "release-notes.txt", "First para\nstill first.\n\n\nSecond para.\n")
    doc = load_one(path)
    assert block_texts(doc) == ["First para\nstill first.", "Second para."]
    assert doc.meta.title == "release-notes"
    assert doc.meta.doc_id == doc_id_for(str(path.resolve()))
    assert doc.meta.path == str(path.resolve())
    assert doc.meta.modified == pytest.approx(path.stat().st_mtime)
    assert doc.meta.created is None


def test_windows_newlines_and_bom_are_normalised(tmp_path: Path):
    path = write(tmp_path / "a.txt", b"\xef\xbb\xbfOne\r\n\r\nTwo\r\n")
    doc = load_one(path)
    assert block_texts(doc) == ["One", "Two"]
    assert "\r" not in doc.text and "\ufeff" not in doc.text


def test_source_is_left_empty_unless_the_file_names_one(tmp_path: Path):
    # The pipeline fills it from --source, else the file name.
    assert load_one(write(tmp_path / "a.txt", "hello")).meta.source == ""
    md = write(tmp_path / "b.md", "---\nsource: wiki\n---\nhello")
    assert load_one(md).meta.source == "wiki"


# -- markdown -----------------------------------------------------------------------------

MARKDOWN = """\
---
title: Deploy guide
tags: [ops, " redis ", ""]
date: 2024-03-01
url: https://wiki.example.com/deploy
owner: someone  # unknown keys are ignored
---

# Deploying the service #

Run the **installer** first; see [the docs](https://example.com/docs) and `make *all*`.

## Configuration

Set `REDIS_URL` before starting.

```python
def main():

    return connect(**options)
```

### Ports

~~~
6379
~~~
"""


def test_markdown_front_matter_becomes_metadata_and_is_not_in_text(tmp_path: Path):
    doc = load_one(write(tmp_path / "deploy.md", MARKDOWN))
    assert doc.meta.title == "Deploy guide"
    assert doc.meta.tags == ("ops", "redis")
    assert doc.meta.url == "https://wiki.example.com/deploy"
    assert doc.meta.created == dt.datetime(2024, 3, 1, tzinfo=dt.UTC).timestamp()
    for leaked in ("---", "title:", "owner", "wiki.example.com"):
        assert leaked not in doc.text


def test_markdown_headings_are_blocks_with_levels_and_exact_offsets(tmp_path: Path):
    doc = load_one(write(tmp_path / "deploy.md", MARKDOWN))
    headings = [(b.level, doc.text[b.start : b.end]) for b in doc.blocks if b.kind == "heading"]
    assert headings == [(1, "Deploying the service"), (2, "Configuration"), (3, "Ports")]
    assert doc.blocks[0].kind == "heading" and doc.blocks[0].start == 0


def test_markdown_code_fence_is_one_verbatim_block(tmp_path: Path):
    doc = load_one(write(tmp_path / "deploy.md", MARKDOWN))
    assert block_texts(doc, "code") == [
        "def main():\n\n    return connect(**options)",
        "6379",
    ]
    assert "```" not in doc.text and "~~~" not in doc.text


def test_markdown_prose_reads_naturally_without_markup(tmp_path: Path):
    doc = load_one(write(tmp_path / "deploy.md", MARKDOWN))
    assert block_texts(doc, "text")[0] == ("Run the installer first; see the docs and make *all*.")
    assert "#" not in doc.text


def test_markdown_without_front_matter_takes_title_from_first_heading(tmp_path: Path):
    path = write(tmp_path / "notes.md", "Intro line.\n\n## The Title\n\nBody.\n")
    assert load_one(path).meta.title == "The Title"
    assert load_one(write(tmp_path / "plain.md", "Just text.\n")).meta.title == "plain"


def test_markdown_setext_headings_and_blockquotes(tmp_path: Path):
    path = write(tmp_path / "s.md", "Title\n=====\n\n> quoted *words*\n\nSub\n---\n\ntext\n")
    doc = load_one(path)
    assert [(b.kind, b.level, doc.text[b.start : b.end]) for b in doc.blocks] == [
        ("heading", 1, "Title"),
        ("text", 0, "quoted words"),
        ("heading", 2, "Sub"),
        ("text", 0, "text"),
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("---\ntitle: [unclosed\n---\nbody\n", "malformed front matter"),
        ("---\n- a\n- b\n---\nbody\n", "malformed front matter"),
        ("---\ntitle: x\nbody without end\n", "front matter is not closed"),
        ("---\ndate: next tuesday\n---\nbody\n", "front matter: invalid date"),
        ("---\ntitle: only metadata\n---\n\n", "no readable text after the front matter"),
    ],
)
def test_markdown_bad_front_matter_is_a_load_error(tmp_path: Path, content: str, reason: str):
    path = write(tmp_path / "bad.md", content)
    with pytest.raises(LoadError, match=reason) as err:
        load_path(path)
    assert err.value.path == str(path)


# -- HTML ---------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html><head>
  <title>Runbook:  restarting Redis</title>
  <meta name="keywords" content="ops, redis">
  <style>body { color: red }</style>
  <script>var secret = "do not index";</script>
</head>
<body>
  <header><a href="/">Company home</a></header>
  <nav><ul><li>Menu item</li></ul></nav>
  <main>
    <h1>Restarting</h1>
    <p>Stop the   <b>primary</b>
       first.<br>Then wait.</p>
    <!-- an HTML comment -->
    <h2>Checks</h2>
    <ul><li>Ping it</li><li>Check replication</li></ul>
    <pre>redis-cli ping
  PONG</pre>
    <script>alert("inline")</script>
  </main>
  <aside>Related links</aside>
  <footer>Copyright</footer>
</body></html>
"""


def test_html_drops_scripts_and_navigation_and_keeps_title_and_headings(tmp_path: Path):
    doc = load_one(write(tmp_path / "runbook.html", HTML))
    assert doc.meta.title == "Runbook: restarting Redis"
    assert doc.meta.tags == ("ops", "redis")
    headings = [(b.level, doc.text[b.start : b.end]) for b in doc.blocks if b.kind == "heading"]
    assert headings == [(1, "Restarting"), (2, "Checks")]
    assert "Stop the primary first.\nThen wait." in block_texts(doc, "text")
    assert "Ping it" in block_texts(doc, "text")
    for dropped in ("secret", "alert", "color", "Company home", "Menu item", "Related", "Copy"):
        assert dropped not in doc.text
    assert "comment" not in doc.text


def test_html_pre_is_a_verbatim_code_block(tmp_path: Path):
    doc = load_one(write(tmp_path / "runbook.htm", HTML))
    assert block_texts(doc, "code") == ["redis-cli ping\n  PONG"]


def test_html_title_falls_back_to_first_h1(tmp_path: Path):
    doc = load_one(write(tmp_path / "p.html", "<body><h1>Big  title</h1><p>x</p></body>"))
    assert doc.meta.title == "Big title"


def test_html_in_a_declared_legacy_charset_is_decoded(tmp_path: Path):
    page = '<html><head><meta charset="windows-1252"></head><body><p>Caf\xe9 \u20ac5</p></body>'
    doc = load_one(write(tmp_path / "old.html", page.encode("cp1252")))
    assert doc.text == "Café €5"


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 4,
        b"just words, no markup at all",
        b"<html><script>only()</script><nav>menu</nav></html>",
    ],
)
def test_html_without_readable_text_is_a_load_error(tmp_path: Path, content: bytes):
    with pytest.raises(LoadError):
        load_path(write(tmp_path / "junk.html", content))


SPHINX_PAGE = """<!DOCTYPE html><html><head><title>Options &#8212; Demo 1.0 documentation</title>
<link rel="canonical" href="file:///build/html/options.html"></head><body>
<div class="related" role="navigation"><h3>Navigation</h3><ul>
  <li><a href="genindex.html">index</a></li><li><a href="py-modindex.html">modules</a> |</li>
  <li><a href="next.html">next</a> |</li><li><a href="prev.html">previous</a> |</li></ul></div>
<div class="document"><div class="documentwrapper"><div class="bodywrapper">
<div class="body" role="main"><section id="options">
<h1><span class="section-number">1. </span>Options<a class="headerlink" href="#options">¶</a></h1>
<p>The server reads these options at start-up.</p>
<dl class="std option"><dt id="cmdoption-port"><span class="pre">--port</span> PORT<a
 class="headerlink" href="#cmdoption-port">¶</a></dt>
<dd><p>The TCP port to listen on; 8080 when not given.</p></dd></dl>
<table><tr><th>Name</th><th>Default</th></tr><tr><td>timeout</td><td>30 s</td></tr></table>
<div class="highlight"><pre>demo serve --port 9000</pre></div>
<section id="navigation"><h2>Navigation<a class="headerlink" href="#navigation">¶</a></h2>
<p>A section whose name is a navigation word is still content.</p></section>
</section></div></div></div>
<div class="sphinxsidebar" role="navigation"><div class="sphinxsidebarwrapper">
<h3><a href="index.html">Table of Contents</a></h3><ul><li><a href="#">Options</a></li></ul>
<h4>Previous topic</h4><p class="topless"><a href="prev.html">Install</a></p>
<div id="searchbox" role="search"><h3>Quick search</h3><form><input type="text"></form></div>
</div></div></div>
<div class="footer">&#169; Copyright 2024, Demo.
Created using <a href="https://www.sphinx-doc.org/">Sphinx</a> 7.2.</div>
</body></html>"""


def test_sphinx_page_keeps_main_content_without_navigation_or_footer(tmp_path: Path):
    doc = load_one(write(tmp_path / "options.html", SPHINX_PAGE))
    for nav in ("Quick search", "Previous topic", "Table of Contents", "index", "modules",
        "Copyright", "Created using", "Install", "¶"):  # fmt: skip
        assert nav not in doc.text, nav
    headings = [(b.level, doc.text[b.start : b.end]) for b in doc.blocks if b.kind == "heading"]
    assert headings == [(1, "1. Options"), (2, "Navigation")]
    assert block_texts(doc, "term") == ["--port PORT"]
    assert "The TCP port to listen on; 8080 when not given." in doc.text
    assert "timeout" in doc.text and "30 s" in doc.text
    assert block_texts(doc, "code") == ["demo serve --port 9000"]
    assert doc.meta.title == "Options — Demo 1.0 documentation"
    assert doc.meta.url == "", "a file: canonical link is not a link people can open"


def test_a_web_page_loses_its_cookie_banner_edit_link_and_on_this_page_box(tmp_path: Path):
    page = """<html><head><title>Deploying | Acme Docs</title></head><body>
    <div id="cookie-consent">We use cookies to improve your experience. <a href="/privacy">
      Privacy policy</a> <a href="#ok">Accept all</a></div>
    <div class="site-header"><a href="/">Acme Docs</a> <a href="/blog">Blog</a></div>
    <main><article>
      <h1>Deploying</h1>
      <a class="btn" href="https://git.example.com/edit/deploy.md">Edit this page</a>
      <div class="page-toc"><p>On this page</p><ul><li><a href="#build">Build</a></li>
        <li><a href="#ship">Ship</a></li><li><a href="#roll">Roll back</a></li></ul></div>
      <h2 id="build">Build</h2><p>Build the image with the release tag.</p>
      <pre><code>make image TAG=v2</code></pre>
      <h2 id="ship">Ship</h2><p>Ship it to the canary pool first.</p>
      <dl><dt>--canary</dt><dd>Send 5% of the traffic to the new image.</dd></dl>
      <h2 id="roll">Roll back</h2><p>Run the previous tag again.</p>
    </article></main>
    <footer>© 2024 Acme. All rights reserved.</footer></body></html>"""
    doc = load_one(write(tmp_path / "deploy.html", page))
    for nav in ("cookies", "Accept all", "Acme Docs", "Blog", "Edit this page", "On this page",
        "©", "rights"):  # fmt: skip
        assert nav not in doc.text, nav
    assert block_texts(doc, "heading") == ["Deploying", "Build", "Ship", "Roll back"]
    assert block_texts(doc, "code") == ["make image TAG=v2"]
    assert block_texts(doc, "term") == ["--canary"]
    assert "Send 5% of the traffic to the new image." in doc.text


def test_page_without_a_main_region_loses_its_navigation_bars(tmp_path: Path):
    nav = (
        '<div class="header"><p>Next: <a href="#b">Builtins</a>, Up: <a href="#top">Intro</a>'
        ' [<a href="#toc">Contents</a>][<a href="#ix">Index</a>]</p></div>'
    )
    body = "".join(
        f'{nav}<h2 class="section">{n}.1 Topic {n}</h2><p>Topic {n} is explained in this '
        f"paragraph with enough words to read as prose about the shell and its features.</p>"
        f'<div class="example"><pre class="example">echo topic {n}</pre></div>'
        for n in range(1, 6)
    )
    page = (
        '<html><body><h2 class="contents-heading">Table of Contents</h2><div class="contents">'
        + "<ul>" + "".join(f'<li><a href="#s{n}">{n} Topic {n}</a></li>' for n in range(1, 6))
        + f"</ul></div>{body}</body></html>"
    )  # fmt: skip
    doc = load_one(write(tmp_path / "manual.html", page))
    assert "Next:" not in doc.text and "Up:" not in doc.text
    assert "Table of Contents" not in doc.text
    assert block_texts(doc, "heading") == [f"{n}.1 Topic {n}" for n in range(1, 6)]
    assert block_texts(doc, "code") == [f"echo topic {n}" for n in range(1, 6)]


def test_a_page_marking_nothing_loses_its_cookie_banner_and_copyright_line(tmp_path: Path):
    prose = "the image is built with the release tag and pushed to the registry the cluster uses"
    page = (
        '<html><body><div id="cookie-consent">We use cookies. <a href="#ok">Accept</a></div>'
        '<div class="wrapper"><h1>Deploying</h1>'
        + "".join(f"<h2>Step {n}</h2><p>In step {n}, {prose}.</p>" for n in range(1, 4))
        + '</div><div class="bottom">Copyright 2024 Acme. All rights reserved.</div>'
        "</body></html>"
    )  # fmt: skip
    doc = load_one(write(tmp_path / "deploy.html", page))
    assert "cookies" not in doc.text and "Copyright" not in doc.text
    assert block_texts(doc, "text") == [f"In step {n}, {prose}." for n in range(1, 4)]


def test_an_asciidoc_page_keeps_its_title_box_and_see_also_but_not_its_footer(tmp_path: Path):
    page = """<html><head><title>git-add(1)</title></head><body>
    <div id="header"><h1>git-add(1) Manual Page</h1><h2>NAME</h2>
      <div class="sectionbody"><p>git-add - Add file contents to the index</p></div></div>
    <div id="content"><div class="sect1"><h2 id="_description">DESCRIPTION</h2>
      <div class="paragraph"><p>This command updates the index using the current content
      found in the working tree, to prepare the content staged for the next commit.</p></div>
      <h2 id="_see_also">SEE ALSO</h2><div class="paragraph"><p><a href="git-status.html">
      git-status(1)</a> <a href="git-rm.html">git-rm(1)</a> <a href="git-mv.html">git-mv(1)</a>
      </p></div></div></div>
    <div id="footer"><div id="footer-text">Last updated 2024-05-31 00:35:55 UTC</div></div>
    </body></html>"""
    doc = load_one(write(tmp_path / "git-add.html", page))
    assert block_texts(doc, "heading") == ["git-add(1) Manual Page", "NAME", "DESCRIPTION",
                                           "SEE ALSO"]  # fmt: skip
    assert "git-add - Add file contents to the index" in doc.text
    assert "git-status(1) git-rm(1) git-mv(1)" in doc.text
    assert "Last updated" not in doc.text


def test_a_page_of_links_only_is_not_content(tmp_path: Path):
    links = "".join(f'<li><a href="p{n}.html">Page {n}</a></li>' for n in range(20))
    path = write(tmp_path / "pages.html", f"<html><body><ul>{links}</ul></body></html>")
    with pytest.raises(NotContent, match="only navigation"):
        load_path(path)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("Intro¶", "Intro"), ("1. 1. Intro", "1. Intro"), ("2.3 2.3 Setup #", "2.3 Setup #"),
     ("Why 2 2 cores", "Why 2 2 cores")],
)  # fmt: skip
def test_headings_lose_permalink_signs_and_doubled_numbers(raw: str, shown: str):
    assert clean_heading(raw) == shown


FLASK_DOCS = Path("/usr/share/doc/python-flask-doc/html")


@pytest.mark.skipif(not FLASK_DOCS.is_dir(), reason="apt-get install python-flask-doc")
def test_debian_flask_documentation_has_no_navigation_in_any_chunk():
    from bench.navigation_bench import MARKERS
    from ingest.chunker import Chunker

    pages = [FLASK_DOCS / "quickstart.html", FLASK_DOCS / "api.html", FLASK_DOCS / "cli.html"]
    for page in pages:
        for chunk in Chunker().chunk(load_one(page)):
            assert not MARKERS.search(chunk.text), (page.name, chunk.text[:200])


# -- PDF ----------------------------------------------------------------------------------


def test_pdf_pages_become_text_and_blocks_carry_page_numbers(tmp_path: Path):
    path = make_pdf(
        tmp_path / "manual.pdf",
        [
            ["Installation guide", "", "Download the package first."],
            ["Troubleshooting", "", "Restart the server if it hangs."],
            ["Appendix three."],
        ],
        title="Ops Manual",
    )
    doc = load_one(path)
    assert doc.meta.title == "Ops Manual"
    assert [b.page for b in doc.blocks] == sorted(b.page for b in doc.blocks)
    assert {b.page for b in doc.blocks} == {1, 2, 3}
    by_page = {
        n: " ".join(doc.text[b.start : b.end] for b in doc.blocks if b.page == n) for n in (1, 2, 3)
    }
    assert "Download the package first." in by_page[1]
    assert "Restart the server if it hangs." in by_page[2]
    assert "Appendix three." in by_page[3]
    assert "Installation guide" in doc.text and "\n\n" in doc.text


def test_pdf_title_defaults_to_file_stem(tmp_path: Path):
    doc = load_one(make_pdf(tmp_path / "handbook.pdf", [["Some text."]]))
    assert doc.meta.title == "handbook"


def test_pdf_without_text_is_a_load_error(tmp_path: Path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path))
    c.rect(100, 100, 200, 200, fill=1)
    c.showPage()
    c.save()
    with pytest.raises(LoadError, match=r"no extractable text \(scanned PDF\?\)"):
        load_path(path)


def test_corrupt_pdf_is_a_load_error_naming_the_path(tmp_path: Path):
    path = write(tmp_path / "broken.pdf", os.urandom(4096))
    with pytest.raises(LoadError, match="corrupt PDF") as err:
        load_path(path)
    assert err.value.path == str(path)
    assert str(path) in str(err.value)


def test_truncated_pdf_is_a_load_error(tmp_path: Path):
    good = make_pdf(tmp_path / "good.pdf", [["Hello there."]]).read_bytes()
    path = write(tmp_path / "truncated.pdf", good[: len(good) // 3])
    with pytest.raises(LoadError):
        load_path(path)


def test_password_protected_pdf_is_a_load_error(tmp_path: Path):
    from pypdf import PdfReader, PdfWriter

    source = make_pdf(tmp_path / "plain.pdf", [["Top secret."]])
    writer = PdfWriter()
    for page in PdfReader(source).pages:
        writer.add_page(page)
    writer.encrypt(user_password="hunter2", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as f:
        writer.write(f)
    with pytest.raises(LoadError, match="encrypted PDF"):
        load_path(path)


# -- JSONL --------------------------------------------------------------------------------


def test_jsonl_records_become_documents_with_metadata_and_ids(tmp_path: Path):
    records = [
        {"id": "faq-1", "text": "Redis listens on 6379.", "title": "Ports", "tags": ["ops"]},
        {
            "text": "Para one.\n\nPara two.",
            "source": "wiki",
            "tags": "a, b,,c",
            "url": "https://w/x",
            "created": "2024-05-01T12:00:00+02:00",
            "modified": 1700000000,
        },
        {"id": 42, "text": "Numeric id."},
    ]
    body = "\n".join(json.dumps(r) for r in records[:2]) + "\n\n   \n" + json.dumps(records[2])
    path = write(tmp_path / "export.jsonl", body + "\n")
    docs = list(load_path(path))
    for doc in docs:
        check_blocks(doc)
    assert [d.doc_id for d in docs] == ["faq-1", doc_id_for(f"{path.resolve()}#2"), "42"]
    first, second, third = (d.meta for d in docs)
    assert (first.title, first.tags, first.path) == ("Ports", ("ops",), str(path.resolve()))
    assert (second.source, second.tags, second.url) == ("wiki", ("a", "b", "c"), "https://w/x")
    assert second.created == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC).timestamp()
    assert second.modified == 1700000000.0
    assert block_texts(docs[1]) == ["Para one.", "Para two."]
    assert third.title == "export"
    assert third.modified == pytest.approx(path.stat().st_mtime)


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("{not json", "line 3: not valid JSON"),
        ('["a list"]', "line 3: expected a JSON object"),
        ('{"title": "no text"}', "line 3: missing 'text'"),
        ('{"text": "   "}', "line 3: 'text' must be a non-empty string"),
        ('{"text": 5}', "line 3: 'text' must be a non-empty string"),
        ('{"text": "x", "tags": {"a": 1}}', "line 3: 'tags' must be"),
        ('{"text": "x", "date": "yesterday"}', "line 3: invalid date"),
        ('{"id": "a", "text": "again"}', r"line 3: duplicate id 'a' \(first on line 1\)"),
    ],
)
def test_jsonl_bad_line_fails_the_file_naming_the_line(tmp_path: Path, bad_line: str, reason: str):
    path = write(tmp_path / "data.jsonl", f'{{"id": "a", "text": "ok"}}\n\n{bad_line}\n')
    with pytest.raises(LoadError, match=reason) as err:
        load_path(path)
    assert err.value.path == str(path)


# -- bad input in general -----------------------------------------------------------------


def test_binary_file_with_txt_suffix_is_a_load_error(tmp_path: Path):
    with pytest.raises(LoadError, match="binary"):
        load_path(write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50))


def test_control_character_soup_is_a_load_error(tmp_path: Path):
    with pytest.raises(LoadError, match="binary"):
        load_path(write(tmp_path / "x.txt", bytes(range(1, 32)) * 20))


WINDOWS_TEXT = "Le café coûte 5 € – c’est «cher», naïve Zoë said. Don’t open the kiln."


@pytest.mark.parametrize(
    ("name", "content"),
    [("old.txt", WINDOWS_TEXT), ("old.md", f"# Notes\n\n{WINDOWS_TEXT}"),
     ("old.csv", f"note,price\n\"{WINDOWS_TEXT}\",5 €\n"),
     ("old.html", f"<html><body><p>{WINDOWS_TEXT}</p></body></html>"),
     ("short.txt", "café au lait")],
)  # fmt: skip
def test_text_in_windows_1252_without_a_declared_encoding_is_read_and_says_which(
    tmp_path: Path, name: str, content: str
):
    doc = load_one(write(tmp_path / name, content.encode("cp1252")))
    assert doc.encoding == "cp1252"
    assert content.split("\n")[-1].split(",")[0][:12] in doc.text or "café" in doc.text
    assert "€" in doc.text or name == "short.txt"
    assert "\ufffd" not in doc.text


def test_utf8_text_says_utf8_and_a_declared_charset_is_not_a_guess(tmp_path: Path):
    assert load_one(write(tmp_path / "new.txt", "café €")).encoding == "utf-8"
    page = '<html><head><meta charset="windows-1252"></head><body><p>Caf\xe9</p></body>'
    assert load_one(write(tmp_path / "decl.html", page.encode("cp1252"))).encoding == ""


@pytest.mark.parametrize("suffix", [".txt", ".md", ".html", ".pdf", ".jsonl"])
@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
def test_empty_files_are_a_load_error(tmp_path: Path, suffix: str, content: bytes):
    with pytest.raises(LoadError, match="empty file"):
        load_path(write(tmp_path / f"empty{suffix}", content))


def test_unsupported_suffix_is_a_load_error_listing_supported_ones(tmp_path: Path):
    with pytest.raises(LoadError, match=r"unsupported file type '\.odt'.*\.md"):
        load_path(write(tmp_path / "report.odt", b"PK\x03\x04"))


def test_missing_file_is_a_load_error_raised_by_the_call(tmp_path: Path):
    with pytest.raises(LoadError, match="no such file"):
        load_path(tmp_path / "missing.txt")  # not even iterated


def test_files_over_the_size_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from ingest.loaders import _common

    monkeypatch.setattr(_common, "MAX_BYTES", 10)
    with pytest.raises(LoadError, match="limit is 50 MB"):
        load_path(write(tmp_path / "big.txt", "x" * 11))


def test_supported_suffixes_cover_every_format():
    assert set(SUPPORTED_SUFFIXES) == {
        ".txt",
        ".md",
        ".markdown",
        ".adoc",
        ".asciidoc",
        ".html",
        ".htm",
        ".pdf",
        ".jsonl",
        ".docx",
        ".pptx",
        ".xlsx",
        ".csv",
    }


# -- finding files ------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel in [
        "b.md",
        "a.txt",
        "notes.odt",
        "guide/z.html",
        "guide/drafts/wip.md",
        "guide/c.pdf",
        "api/data.jsonl",
        ".git/config.txt",
        "guide/.hidden.md",
        ".cache/x/y.md",
    ]:
        write(tmp_path / rel, "x")
    return tmp_path


def rel(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_iter_files_recurses_in_sorted_order_skipping_hidden_and_unsupported(tree: Path):
    assert rel(list(iter_files([tree])), tree) == [
        "a.txt",
        "b.md",
        "api/data.jsonl",
        "guide/c.pdf",
        "guide/z.html",
        "guide/drafts/wip.md",
    ]


def test_iter_files_include_and_exclude_globs(tree: Path):
    assert rel(list(iter_files([tree], include=["*.md"])), tree) == ["b.md", "guide/drafts/wip.md"]
    assert rel(list(iter_files([tree], include=["guide/*"], exclude=["*/drafts/*"])), tree) == [
        "guide/c.pdf",
        "guide/z.html",
    ]
    assert "guide/drafts/wip.md" not in rel(list(iter_files([tree], exclude=["drafts"])), tree)
    assert rel(list(iter_files([tree], include=["**/*.pdf"])), tree) == ["guide/c.pdf"]


def test_iter_files_yields_each_file_once_and_keeps_named_files(tree: Path):
    found = list(iter_files([tree / "a.txt", tree, tree / "notes.odt"]))
    assert rel(found, tree)[0] == "a.txt"
    assert rel(found, tree).count("a.txt") == 1
    assert rel(found, tree)[-1] == "notes.odt"  # named explicitly: load_path will say why not


def test_iter_files_missing_path_is_a_load_error(tmp_path: Path):
    with pytest.raises(LoadError, match="no such file"):
        list(iter_files([tmp_path / "nope"]))


def test_every_found_file_loads_or_fails_with_load_error(tmp_path: Path):
    write(tmp_path / "ok.md", MARKDOWN)
    write(tmp_path / "ok.html", HTML)
    write(tmp_path / "bad.pdf", b"%PDF-1.4 garbage")
    loaded, failed = [], []
    for path in iter_files([tmp_path]):
        try:
            loaded += list(load_path(path))
        except LoadError as e:
            failed.append(e.path)
    assert [Path(d.meta.path).name for d in loaded] == ["ok.html", "ok.md"]
    assert failed == [str(tmp_path / "bad.pdf")]
    for doc in loaded:
        check_blocks(doc)
