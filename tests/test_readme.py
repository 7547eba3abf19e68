"""The README says what the code does: every option of every `qa` command is in the command
table, every setting and environment variable in the configuration table, and neither table
names an option or a variable that does not exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import click

from bot.cli import cli
from retrieval.settings import Settings, env_name

README = Path(__file__).resolve().parents[1] / "README.md"
# Read outside the settings object, by the servers it runs on (gunicorn.conf.py, Slack OAuth,
# Prometheus' multiprocess mode): documented where they matter, allowed in the table.
OTHER_VARIABLES = {"WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR", "SLACK_CLIENT_ID",
                   "SLACK_CLIENT_SECRET"}  # fmt: skip
VARIABLE = re.compile(r"`((?:QA|SLACK)_[A-Z0-9_]+|REDIS_URL|PORT|[A-Z]+_[A-Z_]+)`")
LONG_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def table(heading: str) -> list[list[str]]:
    """The cells of the first table under `## heading`, header and rule left out."""
    section = README.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows, started = [], False
    for line in section.splitlines():
        if line.startswith("|"):
            started = True
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
        elif started:
            break
    return rows[2:]


def commands(
    command: click.Command = cli, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command under `qa`, `qa` itself first, with its path (("index", "drop"))."""
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            yield from commands(command.get_command(ctx, name), (*path, name))


def options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option) and not p.hidden]


def names(path: tuple[str, ...], cell: str) -> bool:
    """Does a command cell (`qa index info\\|drop`, `qa feedback [export ...]`) name `path`?"""
    for span in re.findall(r"`([^`]*)`", cell):
        words = [w.strip("[]") for w in span.replace("\\|", "|").split()]
        if words[:1] != ["qa"]:
            continue
        if not path:  # `qa` itself: the row of the options that come before a command
            if words[1:2] and words[1].startswith("-"):
                return True
            continue
        if all(i < len(words) and name in words[i].split("|") for i, name in enumerate(path, 1)):
            return True
    return False


def long_name(option: click.Option) -> str:
    return next((o for o in option.opts if o.startswith("--")), option.opts[0])


def mentions(text: str, option: click.Option) -> bool:
    return any(
        re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)
        for o in (*option.opts, *option.secondary_opts)
    )


def test_every_command_option_is_in_the_readme_command_table() -> None:
    rows = table("Command line")
    missing = []
    for path, command in commands():
        text = " ".join(" ".join(row) for row in rows if names(path, row[0]))
        for option in options(command):
            if not mentions(text, option):
                missing.append(" ".join(["qa", *path, long_name(option)]))
    assert not missing, (
        "README.md's command table (## Command line) does not mention these options; add "
        "them to the row of their command: " + ", ".join(missing)
    )


def test_the_command_table_names_no_option_that_does_not_exist() -> None:
    every = dict(commands())
    unknown = []
    for row in table("Command line"):
        named = [cmd for path, cmd in every.items() if names(path, row[0])]
        known = {o for cmd in named for opt in options(cmd) for o in opt.opts + opt.secondary_opts}
        unknown += [f"{o} in {row[0]}" for o in LONG_OPTION.findall(row[0]) if o not in known]
    assert not unknown, f"README.md's command table names options no command has: {unknown}"


def variables_read() -> dict[str, str]:
    """Every environment variable the code reads, and what reads it."""
    read = {env_name(f.name): f"Settings.{f.name}" for f in fields(Settings)}
    for path, command in commands():
        for option in options(command):
            for var in [option.envvar] if isinstance(option.envvar, str) else option.envvar or []:
                read.setdefault(var, " ".join(["qa", *path, long_name(option)]))
    return read


def test_every_setting_and_environment_variable_is_in_the_configuration_table() -> None:
    documented = {v for row in table("Configuration") for v in VARIABLE.findall(row[0])}
    missing = [f"{var} ({what})" for var, what in variables_read().items() if var not in documented]
    assert not missing, (
        "README.md's configuration table (## Configuration) has no row for: " + ", ".join(missing)
    )


def test_the_configuration_table_names_no_variable_that_nothing_reads() -> None:
    documented = {v for row in table("Configuration") for v in VARIABLE.findall(row[0])}
    unknown = sorted(documented - set(variables_read()) - OTHER_VARIABLES)
    assert not unknown, f"README.md's configuration table names variables nothing reads: {unknown}"
