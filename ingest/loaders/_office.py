"""Opening Office files: one place that turns the libraries' many errors into LoadErrors.

An encrypted (password-protected) .docx/.pptx/.xlsx is not a zip at all but an OLE
compound file; so is a legacy .doc/.ppt/.xls renamed. Both are told apart from plain damage.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ingest.document import LoadError
from ingest.loaders._common import read_bytes

T = TypeVar("T")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def open_office(path: Path, kind: str, opener: Callable[[io.BytesIO], T]) -> T:
    """Read the file and open it with `opener`; every failure names the file and the cause."""
    data = read_bytes(path)
    if data.startswith(_OLE_MAGIC):
        raise LoadError(
            str(path),
            f"password-protected (encrypted) or legacy binary {kind} file: remove the password "
            f"or save it as {path.suffix.lower()} and ingest it again",
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError(str(path), f"corrupt {kind} file (not a valid Office Open XML package)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            return opener(io.BytesIO(data))
    except LoadError:
        raise
    except Exception as e:  # noqa: BLE001 - the libraries raise KeyError, ValueError, XML errors...
        raise LoadError(str(path), f"corrupt {kind} file ({e or type(e).__name__})") from None


def core_fields(props: Any) -> dict[str, Any]:
    """Title, keywords and dates from the package's core properties."""
    fields: dict[str, Any] = {}
    if getattr(props, "title", None):
        fields["title"] = props.title
    if getattr(props, "keywords", None):
        fields["tags"] = props.keywords
    for name in ("created", "modified"):
        value = getattr(props, name, None)
        if isinstance(value, dt.datetime):
            fields[name] = value
    return fields
