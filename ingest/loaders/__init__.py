"""Turn files into Documents: pick a loader by suffix and find the files to load.

Every failure to read a file is a `LoadError(path, reason)` whose reason says what is
wrong, so an ingest run can report it and go on with the next file.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import import_module
from pathlib import Path

from ingest.document import Document, LoadError

__all__ = ["SUPPORTED_SUFFIXES", "LoadError", "iter_files", "load_path"]

_LOADERS = {  # suffix -> module in this package, imported on first use
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".adoc": "asciidoc",
    ".asciidoc": "asciidoc",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".jsonl": "jsonl",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "sheets",
    ".csv": "sheets",
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_LOADERS)


def load_path(path: Path) -> Iterator[Document]:
    """Load one file (a JSONL file can hold many documents).

    The whole file is read before this returns, so a LoadError is raised here, by the call,
    not later while iterating. `DocMeta.source` is left empty unless the file names one.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _LOADERS:
        what = f"unsupported file type '{suffix}'" if suffix else "no file suffix"
        raise LoadError(str(path), f"{what} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    if not path.exists():
        raise LoadError(str(path), "no such file")
    if not path.is_file():
        raise LoadError(str(path), "not a regular file")
    module = import_module(f"{__name__}.{_LOADERS[suffix]}")
    load: Callable[..., Iterable[Document]] = module.load
    return iter(list(load(path)))


def iter_files(
    paths: Iterable[Path], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> Iterator[Path]:
    """The files to ingest, in a stable order, each once.

    Folders are walked recursively in sorted order, skipping hidden files and folders.
    Patterns are fnmatch globs tried on the path relative to the given folder and on the
    name (`*` also crosses `/`). A folder matching `exclude` is skipped whole. Without
    `include`, files in folders are kept when their suffix is supported; a file named
    explicitly is kept whatever its suffix, so an unsupported one fails loudly in
    `load_path` instead of being skipped in silence.
    """
    seen: set[Path] = set()
    for given in paths:
        given = Path(given)
        if not given.exists():
            raise LoadError(str(given), "no such file or folder")
        if given.is_dir():
            found = _walk(given, include, exclude)
        elif _matches(given.name, exclude) or (include and not _matches(given.name, include)):
            continue
        else:
            found = iter([given])
        for path in found:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                yield path


def _walk(folder: Path, include: Sequence[str], exclude: Sequence[str]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        rel_dir = here.relative_to(folder)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and not _matches((rel_dir / d).as_posix(), exclude, d)
        )
        for name in sorted(filenames):
            rel = (rel_dir / name).as_posix()
            if name.startswith(".") or _matches(rel, exclude, name):
                continue
            if include:
                if not _matches(rel, include, name):
                    continue
            elif Path(name).suffix.lower() not in _LOADERS:
                continue
            yield here / name


def _matches(rel: str, patterns: Sequence[str], name: str | None = None) -> bool:
    """`**/x` also matches `x` at the top, as in most glob dialects."""
    names = (rel, name or Path(rel).name)
    expanded = [q for p in patterns for q in (p, p[3:]) if q == p or p.startswith("**/")]
    return any(fnmatch.fnmatch(n, p) for p in expanded for n in names)
