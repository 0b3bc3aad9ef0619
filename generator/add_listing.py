"""``readinglist add-listing``: bring a newly copied listing into the content folder.

The maintainer copies a Daily Papers page into a text file; this copies that file into
``content/sources/`` under the slug of its title and describes it in ``sources.yaml``.
``sources.yaml`` is edited by hand, so its comments and layout must survive: the new
description is appended as text at the end (never re-dumped from parsed data) and the
result is parsed again before anything is written.  Everything is checked first; when
anything is wrong nothing is written at all.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import build_catalog
from .diagnostics import Diagnostic, Diagnostics, display_path
from .models import Listing
from .overrides import load_curation
from .sources import load_listings, parse_listing
from .urls import slug
from .yamlio import load_yaml

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_LISTING_SHAPE = (
    "a Daily Papers listing has, per paper, a title line and an abstract line, "
    "blocks separated by blank lines"
)


class AddListingError(Exception):
    """The listing cannot be added; ``problems`` says why, one actionable sentence each."""

    def __init__(self, source: Path, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = [f"cannot add {display_path(source)}:"] + [f"  {p}" for p in problems]
        super().__init__("\n".join(lines + ["Nothing was written."]))


@dataclass
class MergedPaper:
    """A paper of the new listing that is already on the reading list."""

    id: str
    title: str  # the title the list already shows
    listings: list[str]  # ids of the listings it already comes from


@dataclass
class AddedListing:
    """What ``add-listing`` did and what the new listing brings to the site."""

    id: str
    title: str
    captured: dt.date
    path: Path  # the listing file inside content/sources/
    sources_yaml: Path
    copied: bool  # False when the file already stood at its place and was only registered
    entries: int
    papers: int  # distinct papers among the entries
    new: list[str] = field(default_factory=list)  # ids of papers not on the list before
    merged: list[MergedPaper] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)  # about the listing file, with file:line
    hand_added_clashes: list[Diagnostic] = field(default_factory=list)  # papers.yaml entries it now duplicates

    def format(self) -> str:
        """The report printed by the command: where the listing went and what it adds."""
        where = f"copied to {display_path(self.path)}" if self.copied else f"kept at {display_path(self.path)}"
        lines = [
            f"Added listing '{self.id}': {where}, described in {display_path(self.sources_yaml)} "
            f"(captured {self.captured.isoformat()}).",
            f"{_count(self.entries, 'entry', 'entries')}, {_count(self.papers, 'paper')}: "
            f"{len(self.new)} new, {len(self.merged)} merged with papers already on the list"
            + (":" if self.merged else "."),
        ]
        for m in self.merged:
            lines.append(f"  {m.title} (also in {', '.join(m.listings)})")
        warnings = self.warnings + self.hand_added_clashes
        if warnings:
            lines.append(f"{_count(len(warnings), 'warning')}:")
            lines += [f"  {w}" for w in warnings]
        lines.append("Preview with `mkdocs serve`; `readinglist check` validates all content.")
        return "\n".join(lines)


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def add_listing(
    source: Path,
    title: str,
    captured: str,
    description: str | None = None,
    content_dir: Path = Path("content"),
    *,
    today: dt.date | None = None,
) -> AddedListing:
    """Copy the listing *source* into ``content_dir/sources/`` and describe it in ``sources.yaml``.

    *captured* is the day the page was copied, as typed (``YYYY-MM-DD``); it gives the year
    to the listing's dates printed without one.  Raises :class:`AddListingError` naming
    every problem when the file is not a listing, the name is taken or a value is invalid;
    nothing is written then.
    """
    source, content_dir = Path(source), Path(content_dir)
    problems: list[str] = []
    if not content_dir.is_dir():
        # Most likely a mistyped --content: creating a new content folder would hide the listing.
        raise AddListingError(source, [f"the content folder {display_path(content_dir)} does not exist; give it with --content"])
    title = " ".join(title.split())
    description = " ".join(description.split()) if description is not None else None
    if not title:
        problems.append("--title must not be empty")
    day = _parse_captured(captured, today or dt.date.today(), problems)
    lid = slug(title) if title else ""
    sources_dir = content_dir / "sources"
    dest = sources_dir / f"{lid}.txt"
    in_place = _same_file(source, dest)

    text = _read_listing_text(source, problems)
    sources_yaml = content_dir / "sources.yaml"
    yaml_bytes, known = _read_sources_yaml(sources_yaml, problems)
    if lid:
        problems += _name_taken(lid, dest, sources_dir, known, source, in_place, sources_yaml)

    listing = Listing(id=lid or "new", path=dest, title=title, description=description or "", captured=day)
    diagnostics = Diagnostics()
    if text is not None:
        listing.entries = parse_listing(text, listing, diagnostics)
        if not listing.entries:
            problems.append(f"{display_path(source)} holds no papers ({_LISTING_SHAPE})")

    new_yaml = b""
    if not problems and day is not None and yaml_bytes is not None:
        new_yaml = _appended(yaml_bytes, lid, title, description, day, known, sources_yaml, problems)
    if problems:
        raise AddListingError(source, problems)

    result = _what_it_adds(listing, content_dir)
    result.copied = not in_place
    result.warnings = diagnostics.warnings
    result.sources_yaml = sources_yaml
    if not in_place:
        sources_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    try:
        sources_yaml.write_bytes(new_yaml)
    except OSError:
        if not in_place:
            dest.unlink()  # keep the folder as it was: a file without a description warns on every build
        raise
    return result


def _parse_captured(captured: str, today: dt.date, problems: list[str]) -> dt.date | None:
    day = None
    if _ISO_DATE.match(captured.strip()):
        try:
            day = dt.date.fromisoformat(captured.strip())
        except ValueError:
            pass
    if day is None:
        problems.append(f"--captured must be a real date written YYYY-MM-DD such as 2025-03-11, not '{captured}'")
    elif day > today:
        # A mistyped year would silently move every date printed without a year.
        problems.append(f"--captured {day.isoformat()} is in the future; give the day the page was copied")
        day = None
    return day


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _read_listing_text(source: Path, problems: list[str]) -> str | None:
    name = display_path(source)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        problems.append(f"{name} does not exist")
        return None
    except IsADirectoryError:
        problems.append(f"{name} is a folder; give the text file holding the copied listing")
        return None
    except OSError as exc:
        problems.append(f"{name} cannot be read: {exc.strerror}")
        return None
    if b"\x00" in data:
        problems.append(f"{name} is a binary file, not text copied from a Daily Papers page")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(f"{name} is not UTF-8 text (byte {exc.start + 1} is not valid); save it as UTF-8")
        return None
    if not text.strip():
        problems.append(f"{name} is empty")
        return None
    return text


def _read_sources_yaml(path: Path, problems: list[str]) -> tuple[bytes | None, list[str]]:
    """The bytes of sources.yaml (empty when missing) and the listing ids it describes."""
    if not path.exists():
        return b"", []
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(f"{display_path(path)} is not UTF-8 text; fix it first")
        return None, []
    d = Diagnostics()
    doc = load_yaml(path, d, text=text)
    if d.errors:
        problems += [f"fix {display_path(path)} first: {e}" for e in d.errors]
        return None, []
    if doc.root is not None and doc.root.kind != "map":
        problems.append(f"{display_path(path)} must be a mapping of listing ids to descriptions; fix it first")
        return None, []
    return data, [key.value for key, _ in doc.root.items] if doc.root is not None else []


def _name_taken(lid: str, dest: Path, sources_dir: Path, known: list[str], source: Path,
                in_place: bool, sources_yaml: Path) -> list[str]:
    reasons = []
    if lid in known:
        reasons.append(f"{display_path(sources_yaml)} already describes it")
    if dest.exists() and not in_place:
        reasons.append(f"{display_path(dest)} exists")
    elif sources_dir.is_dir():
        # Listing ids are slugs of file names, so "Multi_Task.txt" already claims "multi-task".
        reasons += [
            f"{display_path(other)} has that id" for other in sorted(sources_dir.glob("*.txt"))
            if slug(other.stem) == lid and not _same_file(other, dest)
        ]
    problems = [f"the name '{lid}' is taken ({'; '.join(reasons)}); choose another --title"] if reasons else []
    if not in_place and sources_dir.is_dir() and _inside(source, sources_dir):
        problems.append(
            f"{display_path(source)} is already inside {display_path(sources_dir)} under another name; "
            f"rename it to {dest.name} (or move it out of that folder) and run again"
        )
    return problems


def _inside(path: Path, folder: Path) -> bool:
    try:
        return folder.resolve() in path.resolve().parents
    except OSError:
        return False


def _appended(old: bytes, lid: str, title: str, description: str | None, day: dt.date,
              known: list[str], path: Path, problems: list[str]) -> bytes:
    """sources.yaml with the new description appended, checked by parsing it again."""
    old_text = old.decode("utf-8-sig")
    newline = "\r\n" if "\r\n" in old_text else "\n"
    # JSON strings are valid double-quoted YAML scalars: every quote, colon or '#' in a
    # title stays text, and no value can start a new key.
    lines = [f"{lid}:", f"  title: {json.dumps(title, ensure_ascii=False)}"]
    if description:
        lines.append(f"  description: {json.dumps(description, ensure_ascii=False)}")
    lines.append(f"  captured: {day.isoformat()}")
    lead = newline if old_text and not old_text.endswith(("\n", "\r")) else ""
    new = old + (lead + newline.join(lines) + newline).encode("utf-8")

    d = Diagnostics()
    doc = load_yaml(path, d, text=new.decode("utf-8-sig"))
    expected = {"title": title, "captured": day.isoformat()}
    if description:
        expected["description"] = description
    ok = (
        not d.errors and doc.root is not None and doc.root.kind == "map"
        and [key.value for key, _ in doc.root.items] == [*known, lid]
        and {k.value: v.value for k, v in doc.root.items[-1][1].items} == expected
    )
    if not ok:
        problems.append(
            f"the description could not be appended to {display_path(path)} safely "
            "(its last lines may be unfinished); add it by hand"
        )
    return new


def _what_it_adds(listing: Listing, content_dir: Path) -> AddedListing:
    # The rest of the content may have problems of its own; `readinglist check` reports
    # them.  Here they only must not hide which papers are already on the list.
    existing = [x for x in load_listings(content_dir, Diagnostics()) if x.id != listing.id]
    on_list = {p.id: p for p in build_catalog(existing)}
    mine = build_catalog([listing])
    assert listing.captured is not None
    result = AddedListing(
        id=listing.id, title=listing.title, captured=listing.captured, path=listing.path,
        sources_yaml=content_dir / "sources.yaml", copied=True,
        entries=len(listing.entries), papers=len(mine),
    )
    for paper in mine:
        old = on_list.get(paper.id)
        if old is None:
            result.new.append(paper.id)
        else:
            result.merged.append(MergedPaper(old.id, old.title, list(old.sources)))
    # A paper added by hand that now comes from a listing is an error at the next build;
    # say so now, where the maintainer is looking.
    hand_added = {edit.pid: edit for edit in load_curation(content_dir, Diagnostics()).added}
    for paper in mine:
        if paper.id in hand_added:
            result.hand_added_clashes.append(Diagnostic(
                "warning",
                f"'{paper.id}' is also added by hand here and now comes from this listing; remove it from "
                "papers.yaml (keep any hand edits in overrides.yaml) or the build fails",
                hand_added[paper.id].location,
            ))
    return result
