"""The one place where untrusted text is made safe for the pages.

Titles, abstracts, names and YAML values end up in Markdown that Python-Markdown turns into
HTML, in raw HTML blocks, in attributes and in front matter that the theme prints without
escaping.  :func:`text` writes every character that means something to Markdown, its
extensions or HTML as a character reference (``&#42;`` for ``*``), which reads the same in
all of those places and shows the original text literally.  The Jinja environment of
:mod:`generator.render` applies it to every ``{{ value }}`` automatically, so templates
never have to remember to escape; values that are already safe are :class:`Markup`.
"""

from __future__ import annotations

import functools
import json
import re
from urllib.parse import urlsplit

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup
from markupsafe import escape as markupsafe_escape

from .cleaning import strip_invisible

# Markdown syntax (emphasis, links, code, headings, tables, attribute lists, footnotes,
# math, abbreviations, emoji shortcodes), Jinja delimiters and HTML specials.
_SPECIAL = set("\\`*_{}[]<>#|~^$&\"':=+")
_TABLE = {ord(c): f"&#{ord(c)};" for c in _SPECIAL}
_TABLE.update({ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;"})
# At the start of a line, these would begin a list, a quote or a rule.
_LINE_START = re.compile(r"^(\d+)([.)])|^(-)")


def text(value: object) -> Markup:
    """*value* as one line of literal text, safe in Markdown, HTML text and attributes."""
    return _text(str(value))


# A title is shown on its own page and in the lists of every paper related to it: escape
# each distinct text once per process.
@functools.lru_cache(maxsize=1 << 16)
def _text(value: str) -> Markup:
    s = " ".join(strip_invisible(value).split())
    s = s.translate(_TABLE)
    s = _LINE_START.sub(lambda m: (m.group(1) + f"&#{ord(m.group(2))};") if m.group(1) else "&#45;", s)
    return Markup(s)


def front_matter(value: object) -> Markup:
    """A YAML string for front matter whose content is already escaped as :func:`text`,
    because the theme prints page titles raw into the navigation and ``<title>``."""
    return Markup(json.dumps(str(text(value))))


_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def url(value: object) -> Markup:
    """An http(s) URL for a link target or attribute; anything else becomes ``#``.

    Links come from abstracts and hand-edited YAML, so ``javascript:`` or ``data:`` must
    never reach an ``href``.
    """
    s = str(value).strip()
    parts = urlsplit(s)
    if parts.scheme not in {"http", "https"} or not parts.netloc or _SPACE_OR_CONTROL.search(s):
        return Markup("#")
    # Percent-encode what could end the attribute or the Markdown link.
    for ch, enc in (('"', "%22"), ("'", "%27"), ("<", "%3C"), (">", "%3E"), (" ", "%20"), ("(", "%28"), (")", "%29"), ("`", "%60")):
        s = s.replace(ch, enc)
    return Markup(s.replace("&", "&amp;"))


def html(value: object) -> Markup:
    """*value* for raw HTML text where line breaks matter (a ``<pre>`` block): HTML-escaped only."""
    return Markup(str(markupsafe_escape(strip_invisible(str(value)))))


_SAFE_PATH = re.compile(r"[A-Za-z0-9\-._~/]*")


def url_path(value: str) -> Markup:
    """A relative site path (``../../feed.xml``) for an attribute; only safe path characters pass."""
    if _SAFE_PATH.fullmatch(value):
        return Markup(value)
    return Markup("".join(c if c.isalnum() or c in "-._~/" else "%%%02X" % ord(c) for c in value))


def markdown_note(value: object) -> Markup:
    """HTML for a maintainer's Markdown note: formatting works, raw HTML shows as text,
    links only to http(s), headings demoted below the page's own."""
    source = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    md = markdown.Markdown(extensions=[_SafeNoteExtension()])
    return Markup(md.convert(source))


class _SafeNoteExtension(Extension):
    def extendMarkdown(self, md):  # noqa: N802 - Python-Markdown's API name
        md.treeprocessors.register(_SafeNoteTree(md), "readinglist-safe-note", 0)


class _SafeNoteTree(Treeprocessor):
    def run(self, root):
        for el in root.iter():
            for attr in ("href", "src"):
                # Python-Markdown stores attribute values unescaped; url() re-escapes.
                if attr in el.attrib and str(url(el.attrib[attr])) == "#":
                    el.attrib[attr] = "#"
            if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                el.tag = "h" + str(min(6, int(el.tag[1]) + 3))
        return None
