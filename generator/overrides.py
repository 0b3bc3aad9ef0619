"""Hand curation: ``content/overrides.yaml`` (edits to listed papers) and
``content/papers.yaml`` (papers added by hand).

Both files are validated strictly (see :mod:`generator.yamlio`): every mistake is reported
with ``file:line:col``, the key and what would be valid, and all of them together.  The
edits are then applied to the catalog; each paper remembers which fields were set by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from .cleaning import clean_text, find_urls, classify_url, short_name
from .diagnostics import Diagnostics, Location, did_you_mean
from .models import Paper
from .topics import ManualTopics
from .urls import paper_id, slug
from .yamlio import Node, iter_mapping, load_yaml

STATUSES = ("to-read", "reading", "read")
LINK_KINDS = ("code", "project", "pdf")
_ARXIV = re.compile(r"(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?\Z")

FIELDS: dict[str, str] = {
    "title": "text",
    "abstract": "text",
    "date": "date YYYY-MM-DD",
    "authors": "list of names",
    "organization": "text",
    "arxiv": "arXiv id such as '2310.01217'",
    "links": "mapping of code/project/pdf to lists of https URLs",
    "topics": "mapping with add/remove lists of topic ids",
    "note": "Markdown text",
    "featured": "true or false",
    "status": "one of " + ", ".join(STATUSES),
    "hidden": "true or false",
    "reason": "text (why the paper is hidden)",
    "duplicate_of": "id of the paper this one merges into",
}
PAPER_FIELDS = {"id": "paper id (slug); derived from the title when omitted", **FIELDS}
PAPER_FIELDS.pop("duplicate_of")


@dataclass
class Edit:
    """The validated hand edits of one paper (only the keys that were written)."""

    pid: str
    location: Location
    values: dict[str, object] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    topics: ManualTopics | None = None


@dataclass
class Curation:
    """Everything read from overrides.yaml and papers.yaml."""

    edits: dict[str, Edit] = field(default_factory=dict)  # overrides by paper id, file order
    added: list[Edit] = field(default_factory=list)  # hand-added papers
    redirects: dict[str, str] = field(default_factory=dict)  # old id -> surviving id

    @property
    def manual_topics(self) -> dict[str, ManualTopics]:
        """``topics: {add, remove}`` of every paper that has them, by paper id."""
        out = {e.pid: e.topics for e in self.edits.values() if e.topics}
        out.update({e.pid: e.topics for e in self.added if e.topics})
        return out


def _read_fields(node: Node, allowed: dict[str, str], what: str, edit: Edit) -> None:
    fields = node.mapping(what, allowed)
    if fields is None:
        return
    for key, value in fields.items():
        edit.locations[key] = value.loc
        label = f"{what}: {key}"
        parsed: object = None
        if key in ("title", "abstract", "organization", "note", "reason", "id", "duplicate_of"):
            parsed = value.text(label)
        elif key == "date":
            parsed = value.date(label)
        elif key in ("featured", "hidden"):
            parsed = value.boolean(label)
        elif key == "authors":
            parsed = value.text_list(label)
        elif key == "status":
            s = value.text(label)
            if s is not None and s not in STATUSES:
                value._error(f"{label} must be one of {', '.join(STATUSES)}, not '{s}'{did_you_mean(s, STATUSES)}")
                s = None
            parsed = s
        elif key == "arxiv":
            s = value.text(label)
            if s is not None and not _ARXIV.match(s.strip()):
                value._error(f"{label} must be an arXiv id such as '2310.01217', not '{s}'")
                s = None
            parsed = s.strip() if s else None
        elif key == "links":
            parsed = _read_links(value, label)
        elif key == "topics":
            parsed = _read_topics(value, label)
            if isinstance(parsed, ManualTopics):
                edit.topics = parsed
        if parsed is not None:
            edit.values[key] = parsed


def _read_links(node: Node, label: str) -> dict[str, list[str]] | None:
    kinds = node.mapping(label, {k: "list of https URLs" for k in LINK_KINDS})
    if kinds is None:
        return None
    out: dict[str, list[str]] = {}
    for kind, value in kinds.items():
        items = value.sequence(f"{label}.{kind}")
        if items is None:
            continue
        urls = [u for u in (n.url(f"each item of {label}.{kind}") for n in items) if u]
        out[kind] = urls
    return out


def _read_topics(node: Node, label: str) -> ManualTopics | None:
    parts = node.mapping(label, {"add": "list of topic ids", "remove": "list of topic ids"})
    if parts is None:
        return None
    add = parts["add"].text_list(f"{label}.add") if "add" in parts else []
    remove = parts["remove"].text_list(f"{label}.remove") if "remove" in parts else []
    return ManualTopics(add=add or [], remove=remove or [], location=node.loc)


def load_curation(content_dir: Path, diagnostics: Diagnostics) -> Curation:
    """Read and validate ``overrides.yaml`` and ``papers.yaml`` (both optional)."""
    cur = Curation()
    path = Path(content_dir) / "overrides.yaml"
    if path.exists():
        doc = load_yaml(path, diagnostics)
        if doc.root is not None and doc.root.mapping("overrides.yaml (paper id -> fields)") is not None:
            for key, value in iter_mapping(doc.root):
                edit = Edit(key.value, key.loc)
                if value.is_null:
                    diagnostics.warning(f"override for '{key.value}' sets nothing", key.loc)
                    continue
                _read_fields(value, FIELDS, f"'{key.value}'", edit)
                cur.edits[key.value] = edit
    path = Path(content_dir) / "papers.yaml"
    if path.exists():
        doc = load_yaml(path, diagnostics)
        if doc.root is not None:
            items = doc.root.sequence("papers.yaml (a list of papers)") or []
            for i, node in enumerate(items, 1):
                edit = Edit("", node.loc)
                _read_fields(node, PAPER_FIELDS, f"paper #{i}", edit)
                for required in ("title", "abstract"):
                    if required not in edit.values and required not in edit.locations:
                        diagnostics.error(f"paper #{i} needs a {required}", node.loc)
                title = edit.values.get("title")
                edit.pid = str(edit.values.get("id") or (paper_id(str(title)) if title else ""))
                if "id" in edit.values and slug(edit.pid) != edit.pid:
                    diagnostics.error(f"paper #{i}: id '{edit.pid}' is not a slug; write '{slug(edit.pid)}'", edit.locations["id"])
                if edit.pid:
                    cur.added.append(edit)
    return cur


def apply_curation(papers: list[Paper], cur: Curation, diagnostics: Diagnostics) -> list[Paper]:
    """Apply hand edits and hand-added papers to *papers*; returns the new list sorted by id.

    Unknown ids, redundant edits, merge cycles and merges into hidden papers are reported.
    Papers merged with ``duplicate_of`` disappear into their target, which keeps their
    listings and their id as an alias (its old URL becomes a redirect).
    """
    by_id = {p.id: p for p in papers}
    for edit in cur.added:
        if edit.pid in by_id:
            diagnostics.error(
                f"papers.yaml adds '{edit.pid}', which a listing already has; edit it in overrides.yaml instead",
                edit.location,
            )
            continue
        raw_title = str(edit.values.get("title", ""))
        raw_abstract = str(edit.values.get("abstract", ""))
        name = short_name(raw_title)
        paper = Paper(
            id=edit.pid, title=clean_text(raw_title, name), abstract=clean_text(raw_abstract, name),
            raw_title=raw_title, raw_abstract=raw_abstract, hand_added=True, origins=[edit.location],
        )
        for url in find_urls(raw_abstract):
            paper.links.setdefault(classify_url(url), []).append(url)
        by_id[paper.id] = paper
        _apply(paper, edit, diagnostics, hand_added=True)

    for pid, edit in cur.edits.items():
        paper = by_id.get(pid)
        if paper is None:
            diagnostics.error(f"unknown paper id '{pid}'{did_you_mean(pid, by_id)}", edit.location)
            continue
        _apply(paper, edit, diagnostics, hand_added=False)

    _merge_duplicates(by_id, cur, diagnostics)
    return [by_id[k] for k in sorted(by_id)]


def _apply(paper: Paper, edit: Edit, diagnostics: Diagnostics, *, hand_added: bool) -> None:
    v = edit.values
    for key in ("title", "abstract"):
        if key in v:
            raw = str(v[key])
            if not hand_added and raw == getattr(paper, "raw_" + key):
                diagnostics.warning(f"'{paper.id}': {key} is the same as in the listing; the override is redundant", edit.locations[key])
            setattr(paper, "raw_" + key, raw)
            setattr(paper, key, clean_text(raw, short_name(str(v.get("title", paper.raw_title)))))
    for key in ("date", "organization", "featured", "hidden"):
        if key in v:
            if not hand_added and getattr(paper, key) == v[key] and key in ("date", "organization"):
                diagnostics.warning(f"'{paper.id}': {key} is the same as in the listing; the override is redundant", edit.locations[key])
            setattr(paper, key, v[key])
    if "authors" in v:
        paper.authors = list(v["authors"])  # type: ignore[arg-type]
        paper.author_count = len(paper.authors)
    if "arxiv" in v:
        paper.arxiv = str(v["arxiv"])
    if "links" in v:
        for kind, urls in v["links"].items():  # type: ignore[union-attr]
            merged = paper.links.setdefault(kind, [])
            merged.extend(u for u in urls if u not in merged)
    if "note" in v:
        paper.note = str(v["note"])
    if "status" in v:
        paper.status = str(v["status"])
    if "reason" in v:
        paper.hidden_reason = str(v["reason"])
        if not v.get("hidden"):
            diagnostics.error(f"'{paper.id}': reason is only used with hidden: true", edit.locations["reason"])
    if v.get("hidden") and "reason" not in v:
        diagnostics.error(f"'{paper.id}': hidden: true needs a reason", edit.locations["hidden"])
    if not hand_added:  # a hand-added paper is all by hand; papers.json says hand_added
        paper.overridden = sorted(set(paper.overridden) | (set(v) - {"duplicate_of", "reason", "id"}))


def _merge_duplicates(by_id: dict[str, Paper], cur: Curation, diagnostics: Diagnostics) -> None:
    targets = {pid: (str(e.values["duplicate_of"]), e.locations["duplicate_of"]) for pid, e in cur.edits.items()
               if "duplicate_of" in e.values and pid in by_id}
    bad: set[str] = set()
    for pid, (target, loc) in targets.items():
        if target not in by_id:
            diagnostics.error(f"'{pid}': duplicate_of names an unknown paper id '{target}'{did_you_mean(target, by_id)}", loc)
            bad.add(pid)
        elif target == pid:
            diagnostics.error(f"'{pid}': duplicate_of names the paper itself", loc)
            bad.add(pid)
        elif by_id[target].hidden:
            diagnostics.error(f"'{pid}': duplicate_of names '{target}', which is hidden; merge into a visible paper", loc)
            bad.add(pid)
    # Follow chains to the surviving paper; a chain that comes back is a cycle.
    for pid in sorted(targets):
        if pid in bad:
            continue
        seen = [pid]
        target = targets[pid][0]
        while target in targets and target not in bad:
            if target in seen:
                cycle = " -> ".join(seen + [target])
                diagnostics.error(f"duplicate_of forms a cycle: {cycle}", targets[pid][1])
                bad.update(seen)
                break
            seen.append(target)
            target = targets[target][0]
        else:
            if target not in bad:
                cur.redirects[pid] = target
    # A redirect chain a -> b -> c must point a at c, not at b (which is gone).
    for old in list(cur.redirects):
        target = cur.redirects[old]
        while target in cur.redirects:
            target = cur.redirects[target]
        cur.redirects[old] = target
    for old, new in sorted(cur.redirects.items()):
        gone, keep = by_id.pop(old), by_id[new]
        keep.aliases.append(old)
        keep.aliases.extend(gone.aliases)
        keep.sources.extend(s for s in gone.sources if s not in keep.sources)
        keep.origins.extend(gone.origins)
        for attr in ("date", "author_count", "organization", "arxiv"):
            if getattr(keep, attr) is None:
                setattr(keep, attr, getattr(gone, attr))
        if gone.upvotes is not None and (keep.upvotes is None or gone.upvotes > keep.upvotes):
            keep.upvotes, keep.upvotes_as_of = gone.upvotes, gone.upvotes_as_of
        for kind, urls in gone.links.items():
            merged = keep.links.setdefault(kind, [])
            merged.extend(u for u in urls if u not in merged)
        keep.aliases.sort()
