"""An HTML page's main content: what a reader came for, without the site around it.

Generated documentation repeats its navigation on every page (menus, sidebars, "previous |
next" bars, tables of contents, footers), and every copy becomes chunks that crowd out the
real answers. Two passes remove it, because marked-up documentation and arbitrary pages
fail in different ways:

1. Structure: the page's main region when it marks one (`<main>`, `role="main"`, Sphinx's
   `div.body`, Doxygen's `#doc-content`...), minus the boxes whose tag, ARIA role, class or
   id says they are navigation, the boxes that are mostly links, and permalink anchors
   (Sphinx's "¶"). A box that holds the page's `<h1>` keeps that heading.
2. Statistics: on a page that marks no main region, trafilatura (text and link density)
   judges the rest; `kept_lines` is the text it kept, and the loader drops the text blocks
   it did not keep (headings and code stay: navigation is neither).
"""

from __future__ import annotations

import logging
import re

from bs4 import BeautifulSoup
from bs4.element import Tag

_BOX_WORDS = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|navpath|nav-panel|sidebar|sphinxsidebar(?:wrapper)?"
    r"|breadcrumbs?|toc|localtoc|footer|headerlink|cookies?|cookie-banner|consent|gdpr|menu"
    r"|pagination|pager|prev-next|skip-link|skiplink|rst-versions|related|copyright|searchbox"
    r"|edit-this-page|edit-page|edit-link|editlink|edit-on-github|on-this-page|md-sidebar"
    r"|md-header|md-footer|page-toc|skip-to-content"
    r"|footer-text|footnav|topnav|site-header|site-footer|announcement)(?:$|[\s_-])",
    re.I,
)
_BOX_NAMES = frozenset(("header", "search", "share", "social", "banner", "titlearea"))
_BOX_ROLES = frozenset(
    ("navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar")
)
_BOX_TAGS = frozenset(("nav", "header", "footer", "aside", "form"))
_CHECKED = frozenset(
    (
        "div",
        "ul",
        "ol",
        "table",
        "p",
        "span",
        "a",
        "section",
        "dl",
        "nav",
        "header",
        "footer",
        "aside",
        "form",
        "td",
        "li",
    )
)
_LINK_BOXES = frozenset(("div", "ul", "ol", "table", "td"))
_MAIN = (
    '[role="main"]',
    "main",
    "#main-content",
    "div.body",
    "div.document",
    ".md-content",
    ".rst-content",
    "#doc-content",
    "#content",
    "article",
)
_PERMALINKS = frozenset(("¶", "#", "§", "🔗", "link", "permalink"))
_SITE_LINKS = frozenset(
    (
        "edit this page",
        "edit on github",
        "edit on gitlab",
        "view page source",
        "show source",
        "view source",
        "improve this page",
        "suggest an edit",
        "skip to content",
        "skip to main content",
        "back to top",
    )
)
_PAGER_WORDS = frozenset(
    (
        "next",
        "previous",
        "prev",
        "next section",
        "previous section",
        "index",
        "up",
        "top",
        "home",
        "contents",
        "back",
        "next page",
        "previous page",
        "back to top",
        "« previous",
        "next »",
    )
)

log = logging.getLogger(__name__)


def main_content(soup: BeautifulSoup) -> tuple[Tag, bool]:
    """The element holding the main content, pruned in place, and whether the page marked it
    (else the caller asks trafilatura which blocks are content)."""
    body = soup.body or soup
    region = _marked_region(body)
    if region is not None:
        _take_title_box(body, region)
    _prune(region or body)
    return (region or body), region is not None


def _take_title_box(body: Tag, region: Tag) -> None:
    """A title box just before the main region (AsciiDoc's `#header`: the page's h1 and its
    one-line summary) goes in with it."""
    h1 = body.find("h1")
    if h1 is None or region in h1.parents:
        return
    box = next((a for a in (h1, *h1.parents) if a.parent is region.parent), None)
    if box is not None and box in region.find_previous_siblings():
        region.insert(0, box.extract())


def _marked_region(body: Tag) -> Tag | None:
    """The first marked main region that holds a fair share of the page's text."""
    total = len(body.get_text(" ", strip=True))
    for selector in _MAIN:
        found = body.select(selector)
        if selector == "article" and len(found) != 1:
            continue  # a list of articles is a listing, not one main text
        for tag in found:
            if len(tag.get_text(" ", strip=True)) >= 0.2 * total and total:
                return tag
    return None


def _prune(root: Tag) -> None:
    """Remove navigation boxes and permalink anchors under `root` (a box keeps its h1)."""
    for tag in list(root.find_all(True)):
        if tag.decomposed or tag.parent is None:
            continue
        if _is_permalink(tag) or _is_link_box(tag) or (_is_box(tag) and not _is_title_box(tag)):
            _remove_keeping_title(tag)


def _is_title_box(tag: Tag) -> bool:
    """A page header that holds the page's h1: kept, its navigation pruned inside it."""
    named = tag.name == "header" or "header" in (tag.get("id"), *tag.get_attribute_list("class"))
    return named and tag.find("h1") is not None


def _is_link_box(tag: Tag) -> bool:
    """A menu or table of contents; a paragraph only when it is a pager line (a paragraph of
    links is a "see also", which is content)."""
    if tag.name == "p":
        return _is_pager(tag)
    return tag.name in _LINK_BOXES and (_mostly_links(tag) or _is_pager(tag))


def _is_box(tag: Tag) -> bool:
    """Navigation by its tag, ARIA role, class or id."""
    if tag.name not in _CHECKED:
        return False
    if tag.name in _BOX_TAGS or str(tag.get("role") or "").lower() in _BOX_ROLES:
        return True
    classes = " ".join(c for c in tag.get_attribute_list("class") or [] if c)
    # A section's id comes from its heading ("search", "navigation"): content, not a box.
    ident = "" if tag.name == "section" or "section" in classes.split() else tag.get("id")
    names = [str(n) for n in (*classes.split(), ident) if n]
    return any(n.lower() in _BOX_NAMES for n in names) or bool(_BOX_WORDS.search(" ".join(names)))


def _is_permalink(tag: Tag) -> bool:
    if tag.name != "a":
        return False
    if "headerlink" in (tag.get_attribute_list("class") or []):
        return True
    text = " ".join(tag.get_text(" ", strip=True).split()).lower()
    if text in _SITE_LINKS:
        return True  # a link about the page, not part of it
    return str(tag.get("href") or "").startswith("#") and (
        text in _PERMALINKS or (not text and tag.find_parent(re.compile("^h[1-6]$")) is not None)
    )


def _mostly_links(tag: Tag) -> bool:
    """A box of three or more links whose text is nearly all link text: a menu or a table
    of contents, not prose that cites a few pages."""
    links = tag.find_all("a")
    if len(links) < 3 or tag.find(("pre", "h1", "h2", "h3", "h4", "h5", "h6")):
        return False  # a box with headings is a section that may also cite pages
    if tag.name == "div" and tag.find("p") and not tag.find(("li", "td")):
        return False  # links in paragraphs: a "see also", written as prose
    text = len("".join(tag.get_text().split()))
    linked = sum(len("".join(a.get_text().split())) for a in links)
    return text > 0 and linked >= 0.8 * text


def _is_pager(tag: Tag) -> bool:
    """A short line of links to the next, previous or index page ("Go to the next section
    or return to the index."), written into the text itself."""
    links = tag.find_all("a")
    if len(links) < 2 or len(tag.get_text().split()) > 12:
        return False
    return any(a.get_text(" ", strip=True).lower() in _PAGER_WORDS for a in links)


def _remove_keeping_title(tag: Tag) -> None:
    titles = tag.find_all("h1") if tag.name != "a" else []
    if titles:
        for h1 in titles:
            tag.insert_before(h1.extract())
    tag.decompose()


def kept_lines(region: Tag) -> list[str] | None:
    """trafilatura's main text of `region`, as normalised lines; None when it finds none
    (then everything the first pass left is kept)."""
    import trafilatura

    html = f"<html><body>{region.decode_contents()}</body></html>"
    try:
        text = trafilatura.extract(
            html,
            output_format="txt",
            include_tables=True,
            include_comments=False,
            include_links=False,
            favor_recall=True,
            deduplicate=False,
        )
    except Exception as e:  # noqa: BLE001 - a third-party parser's failure must not lose the page
        log.info("trafilatura failed (%s); keeping the page's text as it is", e)
        return None
    if not text or not text.strip():
        return None
    return [n for n in (squash(line) for line in text.splitlines()) if n]


def squash(text: str) -> str:
    """Letters and digits only, lower-cased: the same text whatever the layout around it."""
    return "".join(c for c in text.lower() if c.isalnum())


def is_kept(block_text: str, kept: str) -> bool:
    """Whether most of a block's lines are in trafilatura's text (`kept`, squashed)."""
    lines = [n for n in (squash(line) for line in block_text.splitlines()) if n]
    if not lines:
        return True
    found = sum(len(n) for n in lines if n in kept)
    return found >= 0.5 * sum(len(n) for n in lines)


_FOOTER = re.compile(r"^(?:©|\(c\)|copyright\b|all rights reserved)", re.I)


def without_footer_lines(parts: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """Drop a short copyright line among the page's last three blocks: the footer of a page
    that does not mark its footer."""
    tail = len(parts) - 3
    return [
        p
        for i, p in enumerate(parts)
        if not (i >= tail and p[0] == "text" and len(p[1]) < 200 and _FOOTER.match(p[1]))
    ]
