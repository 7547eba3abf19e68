"""`qa docs`, `qa delete`, `qa index info|drop`, `qa reindex`: what is stored, and how."""

from __future__ import annotations

import click

from bot.commands.common import echo_json, index_of, settings_of
from retrieval.calibration.status import summary
from retrieval.index import temporary
from retrieval.query.rerank_weights import LiveWeights


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--tags", "tags_only", is_flag=True, help="List the tags with their documents.")
@click.pass_context
def docs(ctx: click.Context, as_json: bool, tags_only: bool) -> None:
    """List the stored documents: where answers show them, title, tags, date, chunks."""
    from retrieval.index.listing import listed, tag_counts

    index, _ = index_of(ctx)
    stored = listed(index, settings_of(ctx).url_maps)
    if tags_only:
        counts = tag_counts(stored)
        if as_json:
            echo_json(dict(counts))
            return
        for tag, n in counts:
            click.echo(f"{n:6d}  {tag}")
        click.echo(f"{len(counts)} tags on {len(stored)} documents")
        return
    if as_json:
        echo_json([x.to_dict() for x in stored])
        return
    for x in stored:
        d = x.doc
        tags = ",".join(d.tags) or "-"
        click.echo(f"{x.shown}  {d.title or '-'}  [{tags}]  {x.date or '-'}  {d.chunks} chunks")
    click.echo(f"{len(stored)} documents, {sum(x.doc.chunks for x in stored)} chunks")


@click.command()
@click.argument("refs", nargs=-1, required=True)
@click.pass_context
def delete(ctx: click.Context, refs: tuple[str, ...]) -> None:
    """Delete documents: by what `qa ask` or `qa docs` shows as their source, their id, or the
    path or URL they were ingested from."""
    from retrieval.index.listing import listed, references, resolve

    index, _ = index_of(ctx)
    names = references(listed(index, settings_of(ctx).url_maps))
    missing, ambiguous, chosen = [], [], {}
    for ref in refs:
        found = resolve(ref, names)
        if not found:
            missing.append(ref)
        elif len(found) > 1:
            ambiguous.append(f"{ref} ({', '.join(sorted(found))})")
        else:
            chosen.setdefault(found.pop(), ref)
    if ambiguous:
        raise click.ClickException(
            f"more than one document is shown as {'; '.join(ambiguous)}: name them by id "
            "(`qa docs --json` lists each one's id and path); nothing was deleted"
        )
    for doc_id, ref in chosen.items():
        n = index.delete(doc_id)
        click.echo(f"deleted {ref} ({doc_id}, {n} chunks)")
    if missing:
        raise click.ClickException(f"no such document: {', '.join(missing)} (see `qa docs`)")


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
    echo_json(
        {
            "index": index.schema.name,
            "model": model,
            "dimension": dim,
            "documents": sum(1 for _ in index.documents()),
            "chunks": int(raw.get("num_docs", 0)),
            "vector_type": index.layout().vector_type,
            "hnsw": {
                "m": index.schema.m,
                "ef_construction": index.schema.ef_construction,
                "ef_runtime": index.schema.ef_runtime,
            },
            "memory_mb": {
                k: raw.get(k) for k in ("inverted_sz_mb", "vector_index_sz_mb", "doc_table_size_mb")
            },
            "calibration": summary(index, settings_of(ctx).refusal_target),
            "rerank": LiveWeights(index, 0).describe(),
            # Another process's evaluation or calibration, or one killed before it could drop
            # its index ("stale": the next `qa calibrate` drops it).
            "temporary_indexes": [t.to_dict() for t in temporary.listed(index.client)],
        }
    )


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
    "--vector-type",
    type=click.Choice(["FLOAT16", "FLOAT32"]),
    default=None,
    help="The type to store vectors as; default QA_VECTOR_TYPE (FLOAT16).",
)
@click.pass_context
def reindex(ctx: click.Context, vector_type: str | None) -> None:
    """Move the index to another vector type in place; questions are answered throughout."""
    from retrieval.index.migrate import reindex as migrate
    from retrieval.training.lock import TrainingLock

    index, _ = index_of(ctx)
    wanted = vector_type or settings_of(ctx).vector_type
    with TrainingLock.of(index, "qa reindex"):  # a second reindex, or a training, waits
        done = migrate(index, wanted)
    if done is None:
        click.echo(f"index '{index.schema.name}' already stores {wanted} vectors")
        return
    click.echo(
        f"index '{index.schema.name}': {done.before.vector_type} -> {done.after.vector_type}, "
        f"{done.chunks} vectors converted in {done.seconds:.1f} s"
    )


COMMANDS = [docs, delete, index_group, reindex]
