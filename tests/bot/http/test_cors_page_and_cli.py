"""CORS off unless configured; the question page; the `qa serve` command."""

from __future__ import annotations

import json

import flask
from click.testing import CliRunner

from bot.cli import cli
from tests.bot.http.conftest import KEY_QUESTION

ORIGIN = {"Origin": "https://intranet.example.com"}
PREFLIGHT = {**ORIGIN, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type"}  # fmt: skip


def test_cors_is_off_by_default(client) -> None:
    response = client.post("/ask", json={"question": KEY_QUESTION}, headers=ORIGIN)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Origin" not in client.options("/ask", headers=PREFLIGHT).headers


def test_cors_allows_only_the_configured_origins(make_app, handbook) -> None:
    client = make_app(cors_origins=("https://intranet.example.com",)).test_client()
    response = client.post("/ask", json={"question": KEY_QUESTION}, headers=ORIGIN)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN["Origin"]
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.headers["Vary"]
    other = client.post("/ask", json={"question": KEY_QUESTION},
                        headers={"Origin": "https://evil.example.net"})  # fmt: skip
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cors_preflight_is_answered_without_a_token(make_app, handbook) -> None:
    app = make_app(cors_origins=("*",), api_tokens=("alpha-token",))
    response = app.test_client().options("/ask", headers=PREFLIGHT)
    assert response.status_code == 204
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN["Origin"]


def test_the_page_is_plain_html_with_its_script_and_a_strict_policy(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'id="question"' in html and 'src="static/app.js"' in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    script = client.get("/static/app.js")
    assert script.status_code == 200 and 'fetch("ask"' in script.get_data(as_text=True)
    assert client.get("/static/style.css").status_code == 200


def test_the_vote_buttons_say_in_words_what_each_emoji_means(client) -> None:
    import re

    html = client.get("/").get_data(as_text=True)
    buttons = re.findall(r'<button type="button" data-helpful="(\w+)">(.*?)</button>', html)
    words = {helpful: re.sub(r"<[^>]+>", "", label).strip() for helpful, label in buttons}
    assert words == {"true": "👍 Helpful", "false": "👎 Not helpful"}


def serve(settings, engine, monkeypatch, args, env=None):  # type: ignore[no-untyped-def]
    """Run `qa serve` with the HTTP server replaced by a recorder of what it was asked."""
    ran: dict = {}

    class Server:
        def __init__(self, host: str, port: int, app: flask.Flask, threaded: bool) -> None:
            ran.update(host=host, port=port, app=app, threaded=threaded, debug=False)
            self.server_port = port

        def serve_forever(self) -> None:
            ran["records"] = [json.loads(p.read_text()) for p in records.glob("*.json")]

    records = settings.data_dir / "servers"
    monkeypatch.setattr("bot.http.QAEngine", lambda s: engine)
    monkeypatch.setattr("werkzeug.serving.make_server", Server)
    monkeypatch.setattr(flask.Flask, "run", lambda self, **kw: ran.update(kw, app=self))
    env = {
        "QA_INDEX_NAME": settings.index_name,
        "QA_KEY_PREFIX": settings.key_prefix,
        "QA_DATA_DIR": str(settings.data_dir),
        **(env or {}),
    }
    result = CliRunner().invoke(cli, ["--redis-url", settings.redis_url, "serve", *args], env=env)
    assert result.exit_code == 0, result.output
    ran["records_after"] = list(records.glob("*.json"))
    return result.output, ran


def test_qa_serve_runs_the_app_on_the_given_address(settings, engine, monkeypatch) -> None:
    output, ran = serve(settings, engine, monkeypatch, ["--host", "0.0.0.0", "--port", "9123"])
    assert "http://0.0.0.0:9123/" in output
    assert ran["host"] == "0.0.0.0" and ran["port"] == 9123 and ran["debug"] is False
    assert ran["app"].test_client().get("/health").status_code == 200
    [record] = ran["records"]  # while it serves, `qa ask` can find it (on loopback)...
    assert (record["host"], record["port"], record["index"]) == ("127.0.0.1", 9123,
                                                                 settings.index_name)  # fmt: skip
    assert ran["records_after"] == []  # ...and not once it stopped


def test_qa_serve_takes_its_port_from_the_environment(settings, engine, monkeypatch) -> None:
    _, ran = serve(settings, engine, monkeypatch, ["--debug"], env={"PORT": "9124"})
    assert ran["host"] == "127.0.0.1" and ran["port"] == 9124 and ran["debug"] is True
