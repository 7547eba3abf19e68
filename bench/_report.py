"""What every benchmark writes beside its numbers: machine, date, commit, command; and the
marker sections of BENCHMARKS.md that each benchmark replaces on its own."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
TITLE = "# Benchmarks\n\nWritten by the scripts in `bench/`; each replaces only its own section.\n"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ram_gib() -> float:
    import psutil

    return psutil.virtual_memory().total / 2**30


def git_state() -> str:
    """The short commit and whether the working tree had uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return f"{commit} ({'dirty tree: uncommitted changes present' if dirty else 'clean tree'})"


_started: str | None = None


def record_start() -> None:
    """Note the commit a run starts from: the tree may change while a long run goes on."""
    global _started
    _started = git_state()


def _commit_line() -> str:
    now = git_state()
    if _started is None or _started == now:
        return now
    return f"{_started} at the start; {now} at the end (code was loaded at the start)"


def command_line() -> str:
    """How this run was started, as one could type it again from the repository root."""
    script = _relative(Path(sys.argv[0]).resolve())
    if getattr(sys.modules["__main__"], "__spec__", None) is not None:  # python -m bench.x
        start = ["-m", ".".join(script.with_suffix("").parts)]
    else:
        start = [script]
    words = [_relative(Path(sys.executable)), *start, *sys.argv[1:]]
    return " ".join(shlex.quote(str(w)) for w in words)


def _relative(path: Path) -> Path:
    try:
        return path.relative_to(ROOT)
    except ValueError:
        return path


def header(title: str, extra: Sequence[str] = ()) -> list[str]:
    """The section's title and the facts needed to judge and repeat its numbers."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"## {title}",
        "",
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores, {ram_gib():.1f} GiB RAM, "
        f"Python {platform.python_version()}; load average at the end {load}",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Commit: {_commit_line()}",
        f"- Command: `{command_line()}`",
        *(f"- {line}" for line in extra),
        "",
    ]


def markdown_table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def write_section(name: str, body: str, path: Path = BENCHMARKS) -> None:
    """Replace `<!-- name -->...<!-- /name -->` in the file (append it the first time)."""
    text = path.read_text(encoding="utf-8") if path.exists() else TITLE
    section = f"<!-- {name} -->\n{body.strip()}\n<!-- /{name} -->"
    pattern = re.compile(rf"<!-- {re.escape(name)} -->.*?<!-- /{re.escape(name)} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def publish(section: str, body: str, result: dict, json_out: str | None, write: bool) -> None:
    """Print the section, keep the raw numbers if asked, and update BENCHMARKS.md."""
    if json_out:
        import json

        Path(json_out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(body)
    if write:
        write_section(section, body)
