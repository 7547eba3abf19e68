"""QA_SOURCE_URLS and the place a source is shown at: pure functions, no servers."""

from __future__ import annotations

import pytest

from retrieval.errors import ConfigError
from retrieval.places import parse_source_urls, shown_place
from retrieval.settings import Settings

MAPS = parse_source_urls(
    ["/srv/docs/=https://wiki.example.com/docs/", "/srv/docs/hr=https://hr.example.com/"]
)


@pytest.mark.parametrize(
    ("path", "url", "folder", "expected"),
    [
        # mapped: the longest folder wins, the rest of the path is appended, quoted
        ("/srv/docs/security.md", "", "/srv/docs", ("https://wiki.example.com/docs/security.md",
                                                    "security.md")),
        ("/srv/docs/hr/leave.md", "", "/srv/docs", ("https://hr.example.com/leave.md",
                                                    "hr/leave.md")),
        ("/srv/docs/a b/c#d.md", "", "/srv/docs", ("https://wiki.example.com/docs/a%20b/c%23d.md",
                                                   "a b/c#d.md")),
        # a file's own URL (front matter) comes first
        ("/srv/docs/x.md", "https://own.example.com/x", "/srv/docs", ("https://own.example.com/x",
                                                                      "x.md")),
        # a file: link (an HTML page's canonical link, stored by an older release) opens
        # nowhere: the mapping or the path shows instead
        ("/srv/docs/page.html", "file:///build/html/page.html", "/srv/docs", (
            "https://wiki.example.com/docs/page.html", "page.html")),
        ("/home/ann/site/page.html", "file:///build/page.html", "/home/ann/site", (
            "", "page.html")),
        # not mapped: relative to the folder ingested, else the file's name
        ("/home/ann/notes/team/plan.md", "", "/home/ann/notes", ("", "team/plan.md")),
        ("/home/ann/notes/plan.md", "", "", ("", "plan.md")),
        ("/home/ann/notes/plan.md", "", "/home/ann/other", ("", "plan.md")),
        ("/srv/docs-old/x.md", "", "", ("", "x.md")),  # a folder is a whole path segment
        # a web page's path is its URL and stays
        ("https://site.example.com/p", "https://site.example.com/p", "", (
            "https://site.example.com/p", "https://site.example.com/p")),
    ],
)  # fmt: skip
def test_a_source_is_shown_at_its_url_or_a_relative_path(path, url, folder, expected):
    assert shown_place(path, url, folder, MAPS) == expected


def test_qa_source_urls_is_read_from_the_environment_comma_separated():
    settings = Settings.from_env(
        {"QA_SOURCE_URLS": "/srv/docs/=https://wiki.example.com/docs/, /srv/hr=https://hr.x.io"}
    )
    assert [(m.folder, m.url) for m in settings.url_maps] == [
        ("/srv/docs", "https://wiki.example.com/docs/"),
        ("/srv/hr", "https://hr.x.io"),
    ]
    assert Settings.from_env({}).url_maps == ()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("/srv/docs/", "is not FOLDER=URL"),
        ("=https://wiki.example.com/", "is not FOLDER=URL"),
        ("/srv/docs/=", "is not FOLDER=URL"),
        ("docs/=https://wiki.example.com/", "must be an absolute path"),
        ("~/docs/=https://wiki.example.com/", "must be an absolute path"),
        ("/srv/../etc/=https://wiki.example.com/", "without '..'"),
        ("//srv/docs=https://wiki.example.com/", "without '..'"),
        ("/srv/docs\n/=https://wiki.example.com/", "must be an absolute path"),
        ("/srv/docs/=javascript:alert(1)", "must be an http:// or https://"),
        ("/srv/docs/=file:///etc/passwd", "must be an http:// or https://"),
        ("/srv/docs/=ftp://files.example.com/", "must be an http:// or https://"),
        ("/srv/docs/=https://", "must be an http:// or https://"),
        ("/srv/docs/=https:///docs", "must be an http:// or https://"),
        ("/srv/docs/=https://wiki.example.com/a b", "no spaces or quotes"),
        ('/srv/docs/=https://wiki.example.com/"onclick="x', "no spaces or quotes"),
        ("/srv/docs/=https://wiki.example.com/|evil>", "no spaces or quotes"),
        ("/srv/docs/=https://wiki.example.com/?page=", "must not have a query"),
        ("/srv/docs/=https://wiki.example.com/#top", "must not have a query"),
        ("/srv/docs/=https://a.example.com/,/srv/docs=https://b.example.com/", "twice"),
    ],
)
def test_a_hostile_or_odd_qa_source_urls_is_refused_with_a_clear_config_error(value, says):
    with pytest.raises(ConfigError, match="QA_SOURCE_URLS") as error:
        Settings.from_env({"QA_SOURCE_URLS": value})
    assert says in str(error.value)


def test_settings_built_in_code_are_checked_too():
    with pytest.raises(ConfigError, match="must be an http"):
        Settings().with_(source_urls=("/srv/docs/=gopher://x",))
