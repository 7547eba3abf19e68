"""The question page in real headless Chromium against the live server: type, see the answer."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from ingest.loaders import markdown
from tests.bot.http.cdp import Browser, find_chromium
from tests.bot.http.conftest import KEY_QUESTION

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)"),
]


@pytest.fixture()
def live_url(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture()
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None
    browser = Browser(CHROMIUM)
    try:
        browser.open_page()
        yield browser
    finally:
        browser.close()


def test_typing_a_question_shows_the_answer_highlighted_in_its_source(live_url, browser):
    browser.send("Page.navigate", url=live_url + "/")
    browser.wait_for("document.readyState === 'complete' || null")
    browser.type_and_enter("#question", KEY_QUESTION)
    shown = browser.wait_for(
        "document.getElementById('result').hidden ? null : {"
        " answer: document.getElementById('answer').textContent,"
        " mark: document.querySelector('#context mark').textContent,"
        " context: document.getElementById('context').textContent,"
        " link: document.querySelector('#source a').href }"
    )
    assert "24 hours" in shown["answer"]
    assert shown["mark"] == shown["answer"]
    assert shown["answer"] in shown["context"]  # the sentence (at most two) around it
    page, fragment = shown["link"].split("#:~:text=")
    assert page == "https://wiki.example.com/handbook/api-keys"  # the answer highlighted there
    start = urllib.parse.unquote(fragment).split(",")[0]
    assert start in " ".join(shown["answer"].split())
    problems = [e for e in browser.events if e.get("method") == "Log.entryAdded"
                and e["params"]["entry"]["level"] == "error"]  # fmt: skip
    assert problems == [], problems  # no CSP violation, no failed script


def test_a_refused_question_shows_the_reason(live_url, browser):
    browser.send("Page.navigate", url=live_url + "/?q=" + "x" * 1200)
    status = browser.wait_for(
        "document.getElementById('status').textContent.includes('limit') ?"
        " document.getElementById('status').textContent : null"
    )
    assert "the limit is 1000" in status


def test_an_answer_from_under_a_heading_is_shown_with_that_heading(
    live_url, browser, pipeline, tmp_path
):
    page = tmp_path / "fs.md"
    page.write_text(
        "# File system\n\n## fs.existsSync(path)\n\n"
        "Returns true if the path exists, false otherwise. It blocks the event loop.\n"
    )
    pipeline.ingest(markdown.load(page))
    # In the page's own words: on this two-document index a paraphrase ("Which call checks
    # synchronously ...") is refused before calibration, as its words are nowhere.
    question = urllib.parse.quote("Which function returns true if the path exists?")
    browser.send("Page.navigate", url=f"{live_url}/?q={question}")
    shown = browser.wait_for(
        "document.getElementById('result').hidden ? null : {"
        " answer: document.getElementById('answer').textContent,"
        " heading: document.getElementById('heading').textContent }"
    )
    assert "Returns true if the path exists" in shown["answer"]
    assert shown["heading"] == "From fs.existsSync(path)"
