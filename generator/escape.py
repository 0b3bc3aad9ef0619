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
_TABLE = {c: f"&#{ord(c)};" for c in _SPECIAL}
_TABLE.update({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
# Replaced one after the other, these give what replacing all at once would: "&" and "#"
# come first, and no replacement brings in a character replaced after it.  (str.translate
# does it at once, but slowly: a text with any of these leaves its fast path.)
_REPLACEMENTS = [("&", _TABLE["&"]), ("#", _TABLE["#"])] + sorted((c, r) for c, r in _TABLE.items() if c not in "&#")
# At the start of a line, these would begin a list, a quote or a rule.
_LINE_START = re.compile(r"^(\d+)([.)])|^(-)")


# Longer than this, a text is an abstract or a note, shown on one page only: not worth a
# place among the short texts that pages show over and over.
_CACHED_LENGTH = 400


def text(value: object) -> Markup:
    """*value* as one line of literal text, safe in Markdown, HTML text and attributes."""
    s = str(value)
    return _text(s) if len(s) <= _CACHED_LENGTH else _escape_text(s)


def _escape_text(value: str) -> Markup:
    """:func:`text` of a string, without the cache."""
    if _is_folded(value):
        s = value
    else:
        s = " ".join(strip_invisible(value).split())
    for special, replacement in _REPLACEMENTS:
        if special in s:
            s = s.replace(special, replacement)
    if s[:1] == "-" or s[:1].isdecimal():  # the only ways _LINE_START can match
        s = _LINE_START.sub(lambda m: (m.group(1) + f"&#{ord(m.group(2))};") if m.group(1) else "&#45;", s)
    return Markup(s)


# A title is shown on its own page and in the lists of every paper related to it, a topic
# name on every page of its papers: escape each distinct text once per process.
_text = functools.lru_cache(maxsize=1 << 16)(_escape_text)


def _is_folded(value: str) -> bool:
    """Whether *value* is printable ASCII with single spaces between words and none at the
    ends: nothing to strip or fold.  Titles and abstracts are cleaned that way when read,
    and checking is much quicker than stripping and folding a long abstract again."""
    return value.isascii() and value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " "


_NUMBERS: dict[str, Markup] = {}


def number(value: float, spec: str) -> Markup:
    """*value* formatted with *spec* (``".2f"``): digits, a sign and a point are safe
    anywhere.  Pages print the same few numbers over and over (similarity scores, the
    coordinates of graphs), so each distinct one is made once."""
    formatted = format(value, spec)
    safe = _NUMBERS.get(formatted)
    if safe is None:
        safe = _NUMBERS[formatted] = Markup(formatted)
    return safe


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
