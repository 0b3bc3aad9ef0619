"""Strict loading of hand-edited YAML, with a position for every value.

PyYAML's loaders lose positions, silently keep the last of two duplicate keys and apply
YAML 1.1 typing (``no`` becomes ``False``, ``2310.12340`` a float).  Here a file is only
*composed* into nodes with the safe composer (no object construction, so ``!!python/...``
tags cannot run anything); the schema code in each module then asks for the type it wants
(:meth:`Node.text`, :meth:`Node.boolean`, ...) and every mistake is reported with
``file:line:col``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import yaml

from .diagnostics import Diagnostics, Location, did_you_mean, display_path

# Tags a plain or quoted scalar may carry: the core schema ones, nothing that constructs objects.
_SAFE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


@dataclass
class Node:
    """A composed YAML value: a mapping, a sequence or a scalar, with where it stands."""

    kind: str  # "map", "seq" or "scalar"
    loc: Location
    value: str = ""  # scalar text as written (quotes removed)
    plain: bool = True  # scalar was written without quotes
    items: list[tuple["Node", "Node"]] = field(default_factory=list)  # map entries, in order
    children: list["Node"] = field(default_factory=list)  # sequence items
    file: "YamlFile | None" = field(default=None, repr=False)
    rejected: bool = False  # already reported (an unsafe tag): readers return None quietly

    # -- reading values; each returns None (and records an error) when the type is wrong

    def _error(self, message: str) -> None:
        assert self.file is not None
        if not self.rejected:  # one error per bad value is enough
            self.file.diagnostics.error(message, self.loc)

    @property
    def is_null(self) -> bool:
        """True for an empty value or ``null``/``~`` written without quotes."""
        return self.kind == "scalar" and self.plain and self.value in _NULLS

    def text(self, what: str, *, allow_empty: bool = False) -> str | None:
        """The scalar as a string, whatever it looks like (``no`` stays ``"no"``)."""
        if self.kind != "scalar":
            self._error(f"{what} must be a text, not a {_KIND_NAMES[self.kind]}")
            return None
        if not allow_empty and not self.value.strip():
            self._error(f"{what} must not be empty")
            return None
        return self.value

    def boolean(self, what: str) -> bool | None:
        """``true`` or ``false``; YAML 1.1 spellings such as ``yes``/``no`` are refused."""
        if self.kind == "scalar" and self.plain and self.value in _TRUE:
            return True
        if self.kind == "scalar" and self.plain and self.value in _FALSE:
            return False
        self._error(f"{what} must be true or false, not {self.describe()}")
        return None

    def integer(self, what: str, *, minimum: int | None = None) -> int | None:
        """A whole number written without quotes, at least *minimum* when given."""
        if self.kind == "scalar" and self.plain and _INT.match(self.value):
            n = int(self.value)
            if minimum is not None and n < minimum:
                self._error(f"{what} must be at least {minimum}, not {n}")
                return None
            return n
        self._error(f"{what} must be a whole number, not {self.describe()}")
        return None

    def number(self, what: str) -> float | None:
        """A number written without quotes."""
        if self.kind == "scalar" and self.plain:
            try:
                return float(self.value)
            except ValueError:
                pass
        self._error(f"{what} must be a number, not {self.describe()}")
        return None

    def date(self, what: str) -> dt.date | None:
        """A calendar date written ``YYYY-MM-DD`` that exists (no February 30)."""
        if self.kind == "scalar" and _DATE.match(self.value):
            try:
                return dt.date.fromisoformat(self.value)
            except ValueError:
                pass
        self._error(f"{what} must be a real date written YYYY-MM-DD, not {self.describe()}")
        return None

    def url(self, what: str) -> str | None:
        """An ``https://`` URL with a host; anything else (``javascript:``, ``http:``) is refused."""
        value = self.text(what)
        if value is None:
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in value):
            self._error(f"{what} must be an https:// URL, not {self.describe()}")
            return None
        return value

    def sequence(self, what: str) -> list["Node"] | None:
        """The items of a list; a single scalar is *not* promoted, to catch a forgotten dash."""
        if self.kind != "seq":
            self._error(f"{what} must be a list, not {self.describe()}")
            return None
        return self.children

    def text_list(self, what: str) -> list[str] | None:
        """A list of non-empty texts."""
        items = self.sequence(what)
        if items is None:
            return None
        out = [v for v in (n.text(f"each item of {what}") for n in items) if v is not None]
        return out if len(out) == len(items) else None

    def mapping(self, what: str, allowed: dict[str, str] | None = None) -> dict[str, "Node"] | None:
        """The entries of a mapping by key; unknown keys (when *allowed* is given) are errors.

        *allowed* maps each valid key to a short description of its type, which the error
        lists so the maintainer sees what would be valid.
        """
        if self.kind != "map":
            self._error(f"{what} must be a mapping of keys to values, not {self.describe()}")
            return None
        out: dict[str, Node] = {}
        for key, value in self.items:
            name = key.value
            if allowed is not None and name not in allowed:
                valid = ", ".join(sorted(allowed))
                key._error(f"unknown key '{name}' in {what}{did_you_mean(name, allowed)} (valid keys: {valid})")
                continue
            out[name] = value
        return out

    def describe(self) -> str:
        """How the value looks, for error messages: ``'no'``, ``a list``, ``a mapping``."""
        if self.kind == "scalar":
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            return f"'{shown}'" if self.value else "an empty value"
        return _KIND_NAMES[self.kind]


_KIND_NAMES = {"map": "mapping", "seq": "list", "scalar": "text"}


@dataclass
class YamlFile:
    """A hand-edited YAML file composed into :class:`Node` objects; ``root`` is None if unusable."""

    path: Path
    diagnostics: Diagnostics
    root: Node | None = None

    @functools.cached_property
    def name(self) -> str:
        """The path as shown in messages (worked out once: every node's location names it)."""
        return display_path(self.path)


def load_yaml(path: Path, diagnostics: Diagnostics, *, text: str | None = None) -> YamlFile:
    """Compose *path* (or *text*) safely into positioned nodes, reporting syntax errors,
    duplicate keys and unsafe tags to *diagnostics*.  An empty file gives ``root=None``."""
    doc = YamlFile(Path(path), diagnostics)
    if text is None:
        text = Path(path).read_text(encoding="utf-8-sig")
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(doc.name, mark.line + 1, mark.column + 1) if mark else Location(doc.name)
        problem = exc.problem or exc.context or "invalid YAML"
        diagnostics.error(f"invalid YAML: {problem}", loc)
        return doc
    except yaml.YAMLError as exc:  # e.g. a reader error on a control character
        diagnostics.error(f"invalid YAML: {exc}", Location(doc.name))
        return doc
    if node is not None:
        doc.root = _convert(node, doc)
    return doc


# libyaml composes the same nodes, at the same places, ten times faster than PyYAML's own
# parser; its error messages are worded differently, so a file it rejects is read again
# by the parser whose messages the tests and docs show.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _compose(text: str) -> yaml.Node | None:
    if _FAST_LOADER is not None:
        try:
            return _single_node(_FAST_LOADER, text)
        except yaml.YAMLError:
            pass
    return _single_node(yaml.SafeLoader, text)


def _single_node(loader_class: type, text: str) -> yaml.Node | None:
    loader = loader_class(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _convert(node: yaml.Node, doc: YamlFile) -> Node:
    loc = Location(doc.name, node.start_mark.line + 1, node.start_mark.column + 1)
    if node.tag not in _SAFE_TAGS:
        doc.diagnostics.error(f"the tag '{node.tag}' is not allowed here; write a plain value", loc)
        return Node("scalar", loc, value="", plain=True, file=doc, rejected=True)
    if isinstance(node, yaml.ScalarNode):
        # A plain scalar has no style: None from PyYAML's parser, "" from libyaml's.
        return Node("scalar", loc, value=node.value, plain=not node.style, file=doc)
    if isinstance(node, yaml.SequenceNode):
        return Node("seq", loc, children=[_convert(c, doc) for c in node.value], file=doc)
    out = Node("map", loc, file=doc)
    seen: dict[str, Location] = {}
    for knode, vnode in node.value:
        key = _convert(knode, doc)
        if key.kind != "scalar":
            doc.diagnostics.error("a key must be a plain text", key.loc)
            continue
        if key.value == "<<":
            doc.diagnostics.error("merge keys ('<<') are not supported; write the values out", key.loc)
            continue
        if key.value in seen:
            first = seen[key.value]
            doc.diagnostics.error(
                f"duplicate key '{key.value}' (first at line {first.line}); YAML would silently keep only the last one",
                key.loc,
            )
            continue
        seen[key.value] = key.loc
        out.items.append((key, _convert(vnode, doc)))
    return out


def iter_mapping(node: Node | None) -> Iterator[tuple[Node, Node]]:
    """The (key, value) pairs of a mapping node, nothing for anything else."""
    if node is not None and node.kind == "map":
        yield from node.items
