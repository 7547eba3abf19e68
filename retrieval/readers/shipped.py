"""The reader the product ships: answering from the first question, on every index.

Trained once by us on about 40,000 real questions (`qa train-reader --general`,
`retrieval/training/shipped.py`) and installed with the package in `shipped/`. Every file is
checked against the manifest's sha256 when it loads: a damaged or missing file is refused
with what to do, and the engine answers with the sentence reader meanwhile. `qa train`
continues from it (`training_folder`): the packaged encoder with the shipped weights on top.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from retrieval.errors import ModelUnavailable
from retrieval.settings import SHIPPED_READER as FOLDER

MANIFEST = "manifest.json"
REINSTALL = "reinstall the package (pip install --force-reinstall redis-docqa)"


def manifest(folder: Path = FOLDER) -> dict[str, Any]:
    """The shipped reader's manifest, its files checked; ModelUnavailable saying what is wrong."""
    try:
        m = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = dict(m["files"])
    except FileNotFoundError as e:
        raise ModelUnavailable(f"the shipped reader is missing ({e.filename}): {REINSTALL}") from e
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelUnavailable(
            f"the shipped reader's manifest in {folder} is damaged ({type(e).__name__}): "
            f"{REINSTALL}"
        ) from e
    for name, sha in files.items():
        try:
            actual = sha256_of(folder / name)
        except OSError as e:
            raise ModelUnavailable(f"the shipped reader's {name} is missing: {REINSTALL}") from e
        if actual != sha:
            raise ModelUnavailable(
                f"the shipped reader's {name} is damaged (its sha256 is not the manifest's): "
                f"{REINSTALL}"
            )
    return {**m, "sha": f"shipped-{_digest(files)}"}


def training_folder(base: str, data_dir: Path, folder: Path = FOLDER) -> tuple[Path, dict]:
    """A transformers model folder of the shipped reader (the base encoder, the shipped weights
    on top), made once per version under `data_dir/readers/`, for `qa train` to continue."""
    m = manifest(folder)
    target = data_dir / "readers" / m["sha"]
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target, m
    from safetensors.torch import load_file
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the span head is "newly initialized": it is loaded next
    model = AutoModelForQuestionAnswering.from_pretrained(base, local_files_only=True)
    delta = {k: v.float() for k, v in load_file(str(folder / "delta.safetensors")).items()}
    missing = set(delta) - set(model.state_dict())
    if missing:
        raise ModelUnavailable(
            f"the shipped reader does not fit the encoder {base} ({sorted(missing)[:3]}): "
            "train from the packaged encoder (--base packaged:all-MiniLM-L6-v2)"
        )
    model.load_state_dict(delta, strict=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{m['sha']}-", dir=target.parent))
    try:
        model.save_pretrained(str(temp))
        AutoTokenizer.from_pretrained(str(folder), local_files_only=True).save_pretrained(str(temp))
        if target.exists():
            shutil.rmtree(target)
        os.replace(temp, target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target, m


def _digest(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
