"""The general stage: reading learnt once per machine from questions people wrote.

The bundled SQuAD sample (`sample/`, CC BY-SA 4.0) is asked the way the product asks: its
articles sit in a temporary index, every question retrieves its passages there, and the model
learns to find the answer among them (the others labelled "no answer"). It depends only on
the base model, the sample and this recipe, so it is trained once and cached in the data
folder under a key of those; every index's `qa train-reader` starts from it. Three articles
are never trained on: they measure the stage, through retrieval, as the product answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from retrieval.engine import QAEngine
from retrieval.readers import passages as passage_choice
from retrieval.readers import shipped
from retrieval.readers.span_decoding import MAX_LENGTH
from retrieval.training import real_questions, trainer
from retrieval.training.groups import Gold, Group, features, gold_window, group_for
from retrieval.training.measure import measure
from retrieval.training.squad import Context, SquadSet, by_article, load_squad

SAMPLE = Path(__file__).parent / "sample" / "squad-v1.1-train-sample.json"
HELD_OUT = frozenset({"Antibiotics", "IPod", "Spectre_(2015_film)"})
RECIPE = "general-1"  # change it with the recipe: a new key retrains on every machine
MINUTES = 10.0
GROUP_SIZE = 2  # passages per training question: the answer's and the best wrong one
NO_ANSWER_SHARE = 0.15  # questions asked without their passage: "no answer" is right
MEASURED = 300  # held-out questions the stage is measured on
FIT_SHARE = 0.1  # of the training questions, kept out of training to fit the prior's weight
PRIOR_WEIGHTS = (0.0, 2.5, 5.0, 10.0, 20.0)  # logits a passage's retrieval prior may add
FILES = ("model.safetensors", "config.json", "groups.json")
REAL_MIX = 4000  # real questions an index's training keeps reading beside its own
Say = Callable[[str], None]
DocId = Callable[[Context], str]


@dataclass
class GeneralStage:
    folder: Path  # a transformers model folder (the index stage continues from it)
    manifest: dict[str, Any]

    def groups(self) -> list[Group]:
        """The real questions' groups, for the index stage to keep reading them."""
        raw = json.loads((self.folder / "groups.json").read_text(encoding="utf-8"))
        return [
            Group(g["question"], tuple(g["contexts"]), tuple(map(tuple, g["answers"])), "squad")
            for g in raw
        ]


def from_shipped(
    base: str, data_dir: Path, folder: Path = shipped.FOLDER, seed: int = 0
) -> GeneralStage:
    """The shipped reader in `folder` as the stage an index's training continues from
    (ModelUnavailable when its files are damaged), with REAL_MIX real questions to keep
    reading."""
    folder, m = shipped.training_folder(base, data_dir, folder)
    mix = folder / "groups.json"
    if not mix.exists():
        chosen = real_questions.parts()
        share = REAL_MIX / sum(len(p.train.questions) for p in chosen)
        picked = list(real_questions.all_groups(chosen, seed, share=min(1.0, share)))
        temp = mix.with_suffix(".tmp")
        temp.write_text(json.dumps([asdict(g) for g in picked], ensure_ascii=False), "utf-8")
        os.replace(temp, mix)
    manifest = {
        "key": m["sha"],
        "base": base,
        "questions": m["questions"],
        "minutes": m["minutes"],
        "held_out": m.get("through_retrieval", {}),
        "created": m["created"],
        "prior_weight": m.get("prior_weight", 0.0),
        "shipped": True,
    }
    return GeneralStage(folder, manifest)


def sample_sets() -> tuple[SquadSet, SquadSet]:
    """The sample's training articles and its held-out ones, one document per article."""
    squad = load_squad(SAMPLE)
    return by_article(squad, set(HELD_OUT), keep=False), by_article(squad, set(HELD_OUT))


def cache_key(base: str, embedder: str) -> str:
    """What the stage depends on: the sample, the base model, how passages are retrieved and
    cut, and this recipe."""
    parts = {
        "recipe": RECIPE,
        "base": base,
        "embedder": embedder,
        "sample": shipped.sha256_of(SAMPLE),
        "window": passage_choice.WINDOW_CHARS,
        "passages": passage_choice.PASSAGES,
        "max_length": MAX_LENGTH,
        "lr": trainer.LEARNING_RATE,
        "batch": trainer.BATCH,
        "minutes": MINUTES,
        "frozen": trainer.FROZEN_LAYERS,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def folder_for(data_dir: Path, key: str) -> Path:
    return data_dir / "readers" / f"general-{key}"


def cached(data_dir: Path, key: str) -> tuple[GeneralStage | None, str]:
    """The stage cached for `key`, or None and why (missing, or damaged: never used)."""
    folder = folder_for(data_dir, key)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        files = manifest["files"].items()
        damaged = [n for n, sha in files if shipped.sha256_of(folder / n) != sha]
    except FileNotFoundError:
        return None, "not trained on this machine yet"
    except (OSError, ValueError, KeyError, TypeError) as e:
        return None, f"its cache in {folder} is damaged ({type(e).__name__}): training it again"
    if damaged or manifest.get("key") != key or set(manifest["files"]) != set(FILES):
        return None, f"its cache in {folder} is damaged ({', '.join(damaged)}): training it again"
    return GeneralStage(folder, manifest), ""


def train_general(
    engine: QAEngine,
    doc_id: DocId,
    data_dir: Path,
    key: str,
    *,
    base: str,
    seed: int = 0,
    say: Say = print,
    progress: trainer.Progress | None = None,
    threads: int = 0,
    minutes: float | None = None,
) -> GeneralStage:
    """Train the stage on `engine`'s index, which must hold `sample_sets()`' articles, each
    context stored as the document `doc_id(context)`; for `minutes` (default MINUTES)."""
    began, budget = time.monotonic(), (minutes or MINUTES) * 60
    train, held = sample_sets()
    rng = random.Random(seed)
    fit = _kept_for_fitting(train, rng)
    kept = {id(q) for q in fit.questions}
    train = SquadSet(train.name, train.contexts, [q for q in train.questions if id(q) not in kept])
    groups = squad_groups(engine, train, rng, origin="squad", doc_id=doc_id)
    say(
        f"general stage: {len(groups)} real questions with their retrieved passages "
        f"in {time.monotonic() - began:.0f}s"
    )
    tokenizer, model = trainer.load_base(base)
    feats = features(tokenizer, groups)
    reserve = min(90.0, budget / 4)  # measuring and saving
    seconds = budget - (time.monotonic() - began) - reserve
    result = trainer.train(
        model, feats, seconds, seed, progress or (lambda p: None), threads=threads
    )
    predict = trainer.torch_predictor(model)
    fitted = measure(engine, tokenizer, predict, fit, len(fit.questions), seed, PRIOR_WEIGHTS)
    weight = max(PRIOR_WEIGHTS, key=lambda w: (fitted[w]["f1"], -w))
    scores = measure(engine, tokenizer, predict, held, MEASURED, seed, (weight,))[weight]
    manifest = {
        "key": key,
        "recipe": RECIPE,
        "base": base,
        "questions": len(groups),
        "read": result.examples_seen,
        "steps": result.steps,
        "minutes": round((time.monotonic() - began) / 60, 1),
        "held_out": scores,
        "prior_weight": weight,
        "fitted_on": {str(w): v for w, v in fitted.items()},
        "held_out_articles": sorted(HELD_OUT),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return _save(data_dir, key, model, tokenizer, groups, manifest)


def _kept_for_fitting(train: SquadSet, rng: random.Random) -> SquadSet:
    """FIT_SHARE of the training questions, on which the prior's weight is fitted."""
    n = max(1, int(FIT_SHARE * len(train.questions)))
    return SquadSet(train.name, train.contexts, rng.sample(train.questions, n))


def squad_groups(
    engine: QAEngine,
    squad: SquadSet,
    rng: random.Random,
    *,
    origin: str,
    no_answer_share: float = NO_ANSWER_SHARE,
    doc_id: DocId | None = None,
) -> list[Group]:
    """Each labelled question with the passages it retrieves from `engine`'s index; where
    retrieval misses its answer, the answer's own passage stands in. `doc_id` names the
    index's document of a context (None: the contexts are not in the index)."""
    asked = [q for q in squad.questions if q.answers]
    out = []
    for q, found in zip(asked, engine.retrieve_many([q.text for q in asked]), strict=True):
        chosen = passage_choice.passages(q.text, found.hits)
        context, g = squad.contexts[q.context], q.answers[0]
        gold = Gold(doc_id(context) if doc_id else "", g.start, g.end, g.text)
        if rng.random() < no_answer_share:  # asked as if its passage were not there
            lacking = [p for p in chosen if g.text.lower() not in p.text.lower()]
            group = group_for(q.text, lacking, None, size=GROUP_SIZE, rng=rng, origin=origin)
        else:
            fallback, _ = gold_window(context.text, g.start, g.end)
            group = group_for(
                q.text, chosen, gold, size=GROUP_SIZE, fallback=fallback, rng=rng, origin=origin
            )
        if group is not None:
            out.append(group)
    return out


def _save(
    data_dir: Path,
    key: str,
    model: Any,
    tokenizer: Any,
    groups: list[Group],
    manifest: dict[str, Any],
) -> GeneralStage:
    """Written to a temporary folder, checksummed, then renamed into place (atomic)."""
    final = folder_for(data_dir, key)
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".general-{key}-", dir=final.parent))
    try:
        model.save_pretrained(str(temp))
        tokenizer.save_pretrained(str(temp))
        (temp / "groups.json").write_text(
            json.dumps([asdict(g) for g in groups], ensure_ascii=False), encoding="utf-8"
        )
        manifest["files"] = {n: shipped.sha256_of(temp / n) for n in FILES}
        (temp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)  # a damaged copy
        os.replace(temp, final)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return GeneralStage(final, manifest)
