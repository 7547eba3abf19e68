"""`qa docs`, `qa delete`, `qa index info|drop`, `qa reindex`: what is stored, and how."""

from __future__ import annotations

import click

from bot.commands.common import echo_json, index_of, settings_of
from retrieval.calibration.status import summary
from retrieval.query.rerank_weights import LiveWeights


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def docs(ctx: click.Context, as_json: bool) -> None:
    """List the stored documents with their chunk counts."""
    index, _ = index_of(ctx)
    stored = sorted(index.documents(), key=lambda d: (d.source, d.title, d.doc_id))
    if as_json:
        echo_json([d.__dict__ for d in stored])
        return
    width = max((len(d.doc_id) for d in stored), default=0)
    for d in stored:
        click.echo(
            f"{d.doc_id:{width}s}  {d.chunks:5d} chunks  {d.source or '-':12s}  {d.title or d.path}"
        )
    click.echo(f"{len(stored)} documents, {sum(d.chunks for d in stored)} chunks")


@click.command()
@click.argument("doc_ids", nargs=-1, required=True)
@click.pass_context
def delete(ctx: click.Context, doc_ids: tuple[str, ...]) -> None:
    """Delete documents (by id, or by the path or URL they were ingested from)."""
    index, _ = index_of(ctx)
    by_path = {d.path: d.doc_id for d in index.documents()}
    missing = []
    for ref in doc_ids:
        doc_id = ref if index.stored(ref) else by_path.get(ref) or by_path.get(_resolve(ref))
        if doc_id is None:
            missing.append(ref)
            continue
        n = index.delete(doc_id)
        click.echo(f"deleted {doc_id} ({n} chunks)")
    if missing:
        raise click.ClickException(f"no such document: {', '.join(missing)} (see `qa docs`)")


def _resolve(ref: str) -> str:
    from pathlib import Path

    return str(Path(ref).resolve())


@click.group(name="index")
def index_group() -> None:
    """Inspect or drop the vector index."""


@index_group.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """Show the index's schema, size and model."""
    index, _ = index_of(ctx)
    raw = index.info()
    dim, model = index.stored_model()
    echo_json({
        "index": index.schema.name, "model": model, "dimension": dim,
        "documents": sum(1 for _ in index.documents()), "chunks": int(raw.get("num_docs", 0)),
        "vector_type": index.layout().vector_type, "hnsw": {
            "m": index.schema.m, "ef_construction": index.schema.ef_construction,
            "ef_runtime": index.schema.ef_runtime,
        },
        "memory_mb": {
            k: raw.get(k) for k in ("inverted_sz_mb", "vector_index_sz_mb", "doc_table_size_mb")
        },
        "calibration": summary(index, settings_of(ctx).refusal_target),
        "rerank": LiveWeights(index, 0).describe(),
    })  # fmt: skip


@index_group.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def drop(ctx: click.Context, yes: bool) -> None:
    """Delete the index and every stored chunk."""
    index, _ = index_of(ctx)
    if not yes:
        click.confirm(f"Drop index '{index.schema.name}' and all its documents?", abort=True)
    n = index.drop()
    click.echo(f"dropped index '{index.schema.name}' ({n} documents)")


@click.command()
@click.option(
    "--vector-type", type=click.Choice(["FLOAT16", "FLOAT32"]), default=None,
    help="The type to store vectors as; default QA_VECTOR_TYPE (FLOAT16).",
)  # fmt: skip
@click.pass_context
def reindex(ctx: click.Context, vector_type: str | None) -> None:
    """Move the index to another vector type in place; questions are answered throughout."""
    from retrieval.index.migrate import reindex as migrate

    index, _ = index_of(ctx)
    wanted = vector_type or settings_of(ctx).vector_type
    done = migrate(index, wanted)
    if done is None:
        click.echo(f"index '{index.schema.name}' already stores {wanted} vectors")
        return
    click.echo(
        f"index '{index.schema.name}': {done.before.vector_type} -> {done.after.vector_type}, "
        f"{done.chunks} vectors converted in {done.seconds:.1f} s"
    )


COMMANDS = [docs, delete, index_group, reindex]
