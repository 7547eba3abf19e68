"""Markdown inline markup to plain text, one line at a time."""

from __future__ import annotations

import re

_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_MARKUP = re.compile(r"[*_~\[<]")  # cheap check before the patterns below
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_INLINE = [  # (pattern, replacement), applied in order outside code spans
    (re.compile(r"<!--.*?-->"), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])"), r"\1"),
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>"), ""),
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"), r"\1"),
    (re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"), r"\1"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),
]
# Backslash escapes are parked in the private-use area while the patterns run.
_PRIVATE = 0xE000
_UNESCAPE = {_PRIVATE + i: chr(i) for i in range(128)}
_UNESCAPE_KEEP = {_PRIVATE + i: "\\" + chr(i) for i in range(128)}


def render_inline(line: str) -> str:
    """Rendered text of one line: markup dropped, code spans and escapes kept literally."""
    line = _ESCAPE.sub(lambda m: chr(_PRIVATE + ord(m.group(1))), line.rstrip())
    out: list[str] = []
    pos = 0
    for m in [*_CODE_SPAN.finditer(line), None]:
        segment = line[pos : m.start() if m else len(line)]
        for _ in range(2):  # nested emphasis such as ***both***
            if not _MARKUP.search(segment):
                break
            for pattern, replacement in _INLINE:
                segment = pattern.sub(replacement, segment)
        out.append(segment)
        if m:
            content = m.group(2).translate(_UNESCAPE_KEEP)
            out.append(
                content[1:-1] if content.startswith(" ") and content.endswith(" ") else content
            )
            pos = m.end()
    text = "".join(out)
    if text.endswith("\\"):  # hard line break
        text = text[:-1]
    return text.translate(_UNESCAPE)
