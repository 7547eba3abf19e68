"""The shipped reader's learning curve: held-out real questions against questions read.

    .venv/bin/python -m bench.reader_curve --work QA_DATA_DIR/readers/build/shipped-<key>
        [--shipped retrieval/readers/shipped] [--no-write]

`qa train-reader --general --snapshot 3800 --snapshot 10000 ...` keeps the learnt weights after
so many questions read (`after-N.pt` in its work folder); each is scored here, with the
finished reader, on the held-out paragraphs of every bundled file (never trained on), their
passages given as in training: EM and F1 overall and per file. A snapshot is taken mid-run, its
learning rate not yet decayed to zero: the curve is one run's, read at points along it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import header, markdown_table, record_start, write_section
from retrieval.embedding.model_files import resolve_model_path
from retrieval.readers import shipped
from retrieval.readers.trained import onnx_predictor
from retrieval.training import real_questions, trainer
from retrieval.training.paraphrase import DEFAULT_BASE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="the build's work folder")
    parser.add_argument("--shipped", type=Path, default=shipped.FOLDER)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args(argv)
    record_start()
    parts = real_questions.parts()
    held = {p.name: list(real_questions.all_groups([p], args.seed, held=True)) for p in parts}
    tokenizer, _ = trainer.load_base(resolve_model_path(DEFAULT_BASE))
    rows = []
    for snap in sorted(args.work.glob("after-*.pt"), key=lambda p: int(p.stem.split("-")[1])):
        predict = trainer.torch_predictor(_snapshot_model(snap))
        rows.append(_row(f"{int(snap.stem.split('-')[1]):,} (mid-run)", predict, tokenizer, held))
        print(rows[-1], file=sys.stderr)
    m = shipped.manifest(args.shipped)
    predict = onnx_predictor(args.shipped / "model.onnx")
    rows.append(_row(f"{m['questions']:,} (shipped, int8)", predict, tokenizer, held))
    body = render(rows, list(held), m)
    print(body)
    if not args.no_write:
        write_section("reader-curve", body)


def _snapshot_model(path: Path):  # type: ignore[no-untyped-def]
    import torch

    _, model = trainer.load_base(resolve_model_path(DEFAULT_BASE))
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"], strict=False)
    return model.eval()


def _row(name: str, predict, tokenizer, held: dict) -> list[str]:  # type: ignore[no-untyped-def]
    every = [g for groups in held.values() for g in groups]
    cells = [name]
    total = trainer.score(predict, tokenizer, every)
    cells.append(f"{total['em']:.3f} / {total['f1']:.3f}")
    for groups in held.values():
        s = trainer.score(predict, tokenizer, groups)
        cells.append(f"{s['em']:.3f} / {s['f1']:.3f}")
    return cells


def render(rows: list[list[str]], names: list[str], m: dict) -> str:
    short = [n.split(".json")[0].replace("squadshifts-", "").replace("squad-", "") for n in names]
    lines = header(
        "The shipped reader's learning curve (`bench/reader_curve.py`)",
        [
            f"Recipe {m['recipe']}, seed {m['seed']}, {m['steps']} steps, learning rate "
            f"{m['learning_rate']}, {m['threads']} torch threads; built by `qa train-reader "
            "--general` (command and CPU time in the README)",
            "EM / F1 on the held-out paragraphs of each bundled file (about 2 %, never trained "
            "on; the sample's three held-out articles), the answer's passage and one look-alike "
            "given, as in training",
        ],
    )
    lines += markdown_table(("questions read", "all", *short), rows)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
