"""Helpers shared by the subcommands."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from retrieval.settings import Settings

if TYPE_CHECKING:
    from retrieval.embedding.embedder import Embedder
    from retrieval.index.chunks import ChunkIndex


def settings_of(ctx: click.Context) -> Settings:
    return ctx.find_root().obj


def echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def index_of(ctx: click.Context) -> tuple[ChunkIndex, Embedder]:
    from retrieval.embedding.embedder import Embedder
    from retrieval.index.open import open_index

    settings = settings_of(ctx)
    embedder = Embedder(settings).warm_up()
    return open_index(settings, embedder), embedder
