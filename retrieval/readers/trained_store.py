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
from retrieval.redis.lease import Lease

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


def writing_key(prefix: str, sha: str) -> str:
    """Held (a lease) while a training stores that version and switches to it."""
    return f"{prefix}:reader:writing:{sha}"


def publish(client: redis.Redis, prefix: str, folder: Path, manifest: dict[str, Any]) -> str:
    """Store the folder's files, verify them, then point the index at them. Returns the sha."""
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    sha = digest(files)
    key = files_key(prefix, sha)
    writing = Lease(client, writing_key(prefix, sha), "publishing a trained reader")
    if not writing.acquire():
        raise ModelUnavailable(
            f"another process is storing the same reader ({sha}); wait for it to finish"
        )
    try:
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
    finally:
        writing.release()
    return sha


def remove_unswitched(client: redis.Redis, prefix: str) -> list[str]:
    """Delete the stored versions nothing points at: a training stopped between storing its
    files and switching to them, or before deleting the version it replaced. Never the live
    one, never one a running training is still storing (its writing lease is held). Returns
    their shas."""
    live = (read_manifest(client, prefix) or {}).get("sha")
    removed = []
    for key in client.scan_iter(match=files_key(prefix, "*"), count=100):
        sha = key.decode().rsplit(":", 1)[1]
        if sha == live or client.exists(writing_key(prefix, sha)):
            continue
        client.delete(key)
        removed.append(sha)
    return removed


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
