"""Named sources, declared once in a TOML file, that `qa sync` keeps in step with the index.

[sources.handbook]
folder = "~/handbook"              # or: url = "https://docs.example.com/sitemap.xml"
tags = ["hr"]
include = ["*.md", "*.docx"]
exclude = ["drafts/**"]
interval = "30m"                   # how often `qa sync --every` syncs it (default: each run)

[sources.docs]
url = "https://docs.example.com/guide/"
crawl = true
max_pages = 500
max_depth = 4
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.errors import ConfigError, QAError

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_KEYS = frozenset(
    ("folder", "url", "tags", "include", "exclude", "interval", "crawl", "max_pages", "max_depth")
)


class SourceUnreachable(QAError):
    """The folder or site cannot be reached now: nothing may be removed because of it."""

    code = "source_unreachable"
    status = 502


@dataclass(frozen=True)
class Source:
    name: str
    folder: Path | None = None
    url: str = ""
    tags: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    interval: float = 0.0  # seconds; 0: every run
    crawl: bool = False
    max_pages: int | None = None
    max_depth: int | None = None

    @property
    def location(self) -> str:
        return self.url or str(self.folder)


def parse_interval(text: str) -> float:
    """Seconds from "90", "45s", "30m", "6h" or "1d"."""
    m = _INTERVAL.match(str(text))
    if not m or float(m.group(1)) <= 0:
        raise ConfigError(f"interval {text!r} is not a duration: use e.g. 45s, 30m, 6h or 1d")
    return float(m.group(1)) * _UNITS[m.group(2)]


def load_sources(path: Path) -> list[Source]:
    """The sources a file declares; every mistake is a ConfigError naming the source and key."""
    if not path.exists():
        raise ConfigError(
            f"no sources file at {path}: create it (see `qa sources --help`) or point "
            "QA_SOURCES_FILE at yours"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not valid TOML ({e})") from None
    table = data.get("sources")
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{path} declares no sources: add a [sources.NAME] table")
    return [_source(name, fields, path) for name, fields in table.items()]


def _source(name: str, fields: Any, path: Path) -> Source:
    where = f"{path}: [sources.{name}]"
    if not isinstance(fields, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = set(fields) - _KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if bool(fields.get("folder")) == bool(fields.get("url")):
        raise ConfigError(f"{where} needs exactly one of folder = ... or url = ...")
    url = str(fields.get("url") or "")
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: url must start with http:// or https://")
    folder = Path(str(fields["folder"])).expanduser() if fields.get("folder") else None
    if folder is not None and not folder.is_absolute():
        folder = (path.parent / folder).resolve()  # relative to the sources file
    return Source(
        name=name,
        folder=folder,
        url=url,
        tags=_strings(fields, "tags", where),
        include=_strings(fields, "include", where),
        exclude=_strings(fields, "exclude", where),
        interval=parse_interval(fields["interval"]) if fields.get("interval") else 0.0,
        crawl=bool(fields.get("crawl", False)),
        max_pages=_count(fields, "max_pages", where),
        max_depth=_count(fields, "max_depth", where),
    )


def _strings(fields: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = fields.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _count(fields: dict[str, Any], key: str, where: str) -> int | None:
    value = fields.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{where}: {key} must be a whole number, 0 or more")
    return value
