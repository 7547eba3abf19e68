"""Where a trained reader lives: in Redis beside its index, cached on each host's disk.

Every process that answers on an index (web workers, perhaps on other hosts than the
trainer) finds the model through Redis: `<prefix>:reader:files:<sha>` holds the files and
`<prefix>:reader:current` the manifest that names them. The files are written and read back
first, the pointer switched last, so an interrupted run never leaves half a model in use.
Each host unpacks a version once into `<data_dir>/readers/<sha>` (a rename, also atomic).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import redis

from retrieval.errors import ModelUnavailable

MODEL_FILE = "model.onnx"


def current_key(prefix: str) -> str:
    return f"{prefix}:reader:current"


def files_key(prefix: str, sha: str) -> str:
    return f"{prefix}:reader:files:{sha}"


def digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()[:24]


def publish(client: redis.Redis, prefix: str, folder: Path, manifest: dict[str, Any]) -> str:
    """Store the folder's files, verify them, then point the index at them. Returns the sha."""
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    sha = digest(files)
    key = files_key(prefix, sha)
    client.delete(key)
    for name, data in files.items():
        client.hset(key, name, data)
    stored = {k.decode(): v for k, v in client.hgetall(key).items()}
    if digest(stored) != sha:
        client.delete(key)
        raise ModelUnavailable("the trained reader did not store intact in Redis; run it again")
    previous = read_manifest(client, prefix)
    client.set(current_key(prefix), json.dumps({**manifest, "sha": sha}))
    if previous and previous.get("sha") != sha:
        client.delete(files_key(prefix, previous["sha"]))
    return sha


def read_manifest(client: redis.Redis, prefix: str) -> dict[str, Any] | None:
    raw = client.get(current_key(prefix))
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def local_copy(client: redis.Redis, prefix: str, sha: str, data_dir: Path) -> Path:
    """The version's folder on this host, unpacked from Redis on first use."""
    final = data_dir / "readers" / sha
    if (final / MODEL_FILE).is_file():
        return final
    files = {k.decode(): v for k, v in client.hgetall(files_key(prefix, sha)).items()}
    if MODEL_FILE not in files or digest(files) != sha:
        raise ModelUnavailable(
            f"the trained reader {sha} is missing or damaged in Redis: run `qa train-reader` again"
        )
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{sha}-", dir=final.parent))
    for name, data in files.items():
        (temp / name).write_bytes(data)
    try:
        os.replace(temp, final)
    except OSError:  # another process unpacked it first
        shutil.rmtree(temp, ignore_errors=True)
    return final
