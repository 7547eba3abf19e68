"""AsciiDoc inline markup to plain text, one line at a time: what a reader of the rendered
page sees (`linkgit:git-add[1]` is "git-add(1)", ``{plus}`` is "+", `` `--force` `` is
"--force"), so answers quote the manual as people read it."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Asciidoctor's built-in attributes that stand for characters.
BUILTIN_ATTRIBUTES = {
    "empty": "",
    "blank": "",
    "sp": " ",
    "nbsp": "\u00a0",
    "zwsp": "\u200b",
    "wj": "\u2060",
    "apos": "'",
    "quot": '"',
    "lsquo": "\u2018",
    "rsquo": "\u2019",
    "ldquo": "\u201c",
    "rdquo": "\u201d",
    "deg": "\u00b0",
    "plus": "+",
    "brvbar": "\u00a6",
    "vbar": "|",
    "amp": "&",
    "lt": "<",
    "gt": ">",
    "startsb": "[",
    "endsb": "]",
    "caret": "^",
    "asterisk": "*",
    "tilde": "~",
    "backslash": "\\",
    "backtick": "`",
    "two-colons": "::",
    "two-semicolons": ";;",
    "cpp": "C++",
    "pp": "++",
    "litdd": "--",
}  # fmt: skip  (a table reads better one pair after another)

# Literal text first, parked so no later rule touches it: passthroughs and monospace.
_LITERAL = re.compile(
    r"\+\+\+(.+?)\+\+\+|\+\+(.+?)\+\+|pass:[a-z,]*\[(.*?)\]"
    r"|(?<![\w+])\+(?=\S)(.+?)(?<=\S)\+(?![\w+])|(?<![\w`])`(?=[^`\s'])([^`]*?[^`\s])`(?![\w`'])"
)
_ATTRIBUTE = re.compile(r"(?<!\\)\{([\w][\w-]*)\}")
_MACROS = [  # (pattern, replacement) in order
    (re.compile(r"linkgit:([\w.-]+)\[(\d+)\]"), r"\1(\2)"),  # Git's own man page links
    (re.compile(r"<<([^,>]+),\s*([^>]+)>>"), r"\2"),
    (re.compile(r"<<([^>]+)>>"), r"\1"),
    (re.compile(r"xref:[^\[\s]+\[([^\]]+)\]"), r"\1"),
    (re.compile(r"\b(?:link|mailto):([^\[\s]+)\[\]"), r"\1"),
    (re.compile(r"\b(?:link|mailto):[^\[\s]+\[([^\],]+)[^\]]*\]"), r"\1"),
    (re.compile(r"\b((?:https?|ftp|irc)://[^\[\s]+)\[\]"), r"\1"),
    (re.compile(r"\b(?:https?|ftp|irc)://[^\[\s]+\[([^\],]+)[^\]]*\]"), r"\1"),
    (re.compile(r"\bimage:[^\[\s]+\[([^\],]*)[^\]]*\]"), r"\1"),
    (re.compile(r"\b(?:kbd|btn):\[([^\]]+)\]"), r"\1"),
    (re.compile(r"\bmenu:([^\[\s]+)\[([^\]]+)\]"), lambda m: f"{m[1]} > {m[2]}"),
    (re.compile(r"\bfootnote:[\w-]*\[([^\]]*)\]"), r" (\1)"),
    (re.compile(r"\[\[[\w:.-]+(?:,[^\]]*)?\]\]|\[#[\w-]+\]"), ""),  # inline anchors
    (re.compile(r"``(.+?)''"), r'"\1"'),  # old-style quotes
]
_EMPHASIS = [
    re.compile(r"\*\*(.+?)\*\*"),
    re.compile(r"__(.+?)__"),
    re.compile(r"##(.+?)##"),
    re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"),
    re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"),
    re.compile(r"(?<![\w'])'(?=[^\s'])([^']*?[^\s'])'(?![\w'])"),  # old-style emphasis
    re.compile(r"(?<![\w#])#(?=\S)(.+?)(?<=\S)#(?![\w#])"),
]
_PRIVATE = 0xE000  # parked literal texts: U+E000 + their index


def render_inline(line: str, attributes: Mapping[str, str]) -> str:
    """Rendered text of one line: markup and macros dropped, literals and code kept as written,
    attribute references replaced where known (an unknown one stays as written)."""
    parked: list[str] = []

    def park(m: re.Match[str]) -> str:
        parked.append(next(g for g in m.groups() if g is not None))
        return chr(_PRIVATE + len(parked) - 1)

    line = substitute(line.rstrip(), attributes)
    if line.endswith(" +"):  # a hard line break
        line = line[:-2]
    line = _LITERAL.sub(park, line)
    for pattern, replacement in _MACROS:
        line = pattern.sub(replacement, line)
    for pattern in _EMPHASIS:
        line = pattern.sub(r"\1", line)
    line = re.sub(r"\\(?=[*_`+#'{<\[])", "", line)  # escaped markup is the character itself
    return re.sub(r"[\ue000-\uefff]", lambda m: parked[ord(m[0]) - _PRIVATE], line)


def substitute(text: str, attributes: Mapping[str, str]) -> str:
    """Attribute references replaced where known; an unknown one stays as written."""

    def value(m: re.Match[str]) -> str:
        name = m[1].lower()
        found = attributes.get(name, BUILTIN_ATTRIBUTES.get(name))
        return m[0] if found is None else found

    return _ATTRIBUTE.sub(value, text)
