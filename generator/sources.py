"""Reading listing files (``content/sources/*.txt``) and their descriptions (``sources.yaml``).

A listing is text copied from a Hugging Face "Daily Papers" page: a page header, then for
each paper a title block and an abstract block, optionally followed by a metadata group
(``• 5 authors`` or an organisation line, a lone ``·``, a date with optional upvotes).
Titles and abstracts are told apart by position, never by length.  Every block ends up
as part of an entry, as header or metadata, or in a warning with ``file:line``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .cleaning import fold_spaces
from .diagnostics import Diagnostics, Location, did_you_mean, display_path
from .models import Entry, Listing
from .urls import slug
from .yamlio import load_yaml

HEADER_LINES = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
}
_MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_DATE_LINE = re.compile(
    r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?P<day>\d{1,2})"
    r"(?:,\s*(?P<year>\d{4}))?(?:\s+(?P<up>\d+))?\Z"
)
_AUTHORS_LINE = re.compile(r"[•·*\-]\s*(?P<n>\d+)\s+authors?\Z")
_DOT_LINE = {"·", "•", "."}
_SOURCES_KEYS = {
    "title": "text: the listing's title",
    "description": "text: one sentence on what it holds",
    "captured": "date YYYY-MM-DD the page was copied (gives the year to dates printed without one)",
}


@dataclass
class _Line:
    number: int
    text: str


@dataclass
class _Meta:
    line: int
    author_count: int | None
    organization: str | None
    date: tuple[int, int, int | None] | None  # month, day, year
    upvotes: int | None
    date_text: str


def read_text(path: Path) -> str:
    """The text of a listing file; undecodable bytes become U+FFFD rather than failing the build."""
    return Path(path).read_bytes().decode("utf-8-sig", errors="replace")


def _clean_line(line: str) -> str:
    # Tabs and runs of spaces inside a line are layout, not content.
    return fold_spaces(line)


def _blocks(text: str) -> list[list[_Line]]:
    blocks: list[list[_Line]] = []
    current: list[_Line] = []
    for number, line in enumerate(text.split("\n"), 1):
        cleaned = _clean_line(line)
        if cleaned:
            current.append(_Line(number, cleaned))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def parse_date_line(text: str) -> tuple[int, int, int | None, int | None] | None:
    """``(month, day, year or None, upvotes or None)`` for a line such as ``Sep 8 8`` or
    ``Jul 17, 2024 4``; None if the line is not a date line."""
    m = _DATE_LINE.match(text)
    if not m:
        return None
    year = int(m["year"]) if m["year"] else None
    up = int(m["up"]) if m["up"] else None
    return _MONTHS[m["mon"].lower()[:3]], int(m["day"]), year, up


def _split_meta(block: list[_Line]) -> tuple[list[_Line], _Meta | None]:
    """Peel a trailing metadata group (``[• N authors | organisation]``, ``·``, date) off a block."""
    if len(block) < 2 or block[-2].text not in _DOT_LINE:
        return block, None
    parsed = parse_date_line(block[-1].text)
    if parsed is None:
        return block, None
    month, day, year, up = parsed
    rest = block[:-2]
    authors = org = None
    start = block[-2].number
    if rest:
        m = _AUTHORS_LINE.match(rest[-1].text)
        if m:
            authors = int(m["n"])
            start = rest[-1].number
            rest = rest[:-1]
        elif len(rest) == 1:
            # A block of exactly "<organisation>", "·", "<date>": the submitter line.
            org = rest[-1].text
            start = rest[-1].number
            rest = []
    meta = _Meta(start, authors, org, (month, day, year), up, block[-1].text)
    return rest, meta


def resolve_date(month: int, day: int, year: int | None, captured: dt.date | None) -> dt.date | None:
    """The calendar date of a listing date; a date without a year is the latest such day on
    or before the capture date.  Raises ValueError for a day that does not exist."""
    if year is None:
        if captured is None:
            return None
        year = captured.year
        if (month, day) > (captured.month, captured.day):
            year -= 1
        if (month, day) == (2, 29):
            while True:
                try:
                    return dt.date(year, month, day)
                except ValueError:
                    year -= 1
    return dt.date(year, month, day)


def parse_listing(text: str, listing: Listing, diagnostics: Diagnostics) -> list[Entry]:
    """Parse the text of one listing into entries; header, metadata and anything left over
    are accounted for, the last as warnings with ``file:line``."""
    name = display_path(listing.path)
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    items: list[tuple[str, int, str | _Meta]] = []  # ("text", line, text) or ("meta", line, meta)
    for block in _blocks(text):
        rest, meta = _split_meta(block)
        if rest:
            items.append(("text", rest[0].number, " ".join(line.text for line in rest)))
        if meta:
            items.append(("meta", meta.line, meta))

    i = 0
    header_date: str | None = None
    # The page header: known lines, then the page's date line.
    while i < len(items) and items[i][0] == "text":
        text = str(items[i][2])
        if text.lower() in HEADER_LINES:
            i += 1
            continue
        if header_date is None and parse_date_line(text) and (parse_date_line(text) or ())[3] is None:
            header_date = text
            i += 1
        break
    _check_header_date(header_date, listing, diagnostics)

    entries: list[Entry] = []
    while i < len(items):
        kind, line, value = items[i]
        if kind == "meta":
            diagnostics.warning("metadata line without a paper before it; ignored", Location(name, line))
            i += 1
            continue
        title = str(value)
        loc = Location(name, line)
        abstract = ""
        i += 1
        if i < len(items) and items[i][0] == "text":
            abstract = str(items[i][2])
            i += 1
        elif i < len(items):
            diagnostics.warning(f"paper '{_short(title)}' has no abstract (metadata follows the title)", loc)
        else:
            diagnostics.warning(f"paper '{_short(title)}' has no abstract (the listing ends after its title)", loc)
        entry = Entry(listing=listing.id, location=loc, title=title, abstract=abstract)
        if i < len(items) and items[i][0] == "meta":
            meta = items[i][2]
            assert isinstance(meta, _Meta)
            _apply_meta(entry, meta, listing, Location(name, meta.line), diagnostics)
            i += 1
        entries.append(entry)
    return entries


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _check_header_date(header_date: str | None, listing: Listing, diagnostics: Diagnostics) -> None:
    if header_date is None or listing.captured is None:
        return
    parsed = parse_date_line(header_date)
    assert parsed is not None
    if (parsed[0], parsed[1]) != (listing.captured.month, listing.captured.day):
        diagnostics.warning(
            f"the page header says '{header_date}' but sources.yaml gives captured: {listing.captured.isoformat()}",
            Location(display_path(listing.path)),
        )


def _apply_meta(entry: Entry, meta: _Meta, listing: Listing, loc: Location, diagnostics: Diagnostics) -> None:
    entry.author_count = meta.author_count
    entry.organization = meta.organization
    entry.upvotes = meta.upvotes
    if meta.date is None:
        return
    month, day, year = meta.date
    try:
        entry.date = resolve_date(month, day, year, listing.captured)
    except ValueError:
        diagnostics.warning(f"'{meta.date_text}' is not a real date; the paper is kept without a date", loc)
        return
    if entry.date is None:
        diagnostics.warning(
            f"'{meta.date_text}' has no year and sources.yaml gives no captured date for '{listing.id}'; "
            "the paper is kept without a date",
            loc,
        )


def load_listings(content_dir: Path, diagnostics: Diagnostics) -> list[Listing]:
    """Every listing under ``content/sources/`` with its description, parsed into entries
    (:func:`find_listings`, then :func:`read_entries` of each)."""
    listings = find_listings(content_dir, diagnostics)
    for listing in listings:
        read_entries(listing, diagnostics)
    return listings


def find_listings(content_dir: Path, diagnostics: Diagnostics) -> list[Listing]:
    """Every listing under ``content/sources/`` with its description, not read yet.

    Listings described in ``sources.yaml`` come first, in that file's order; files it does
    not describe follow by name, each with a warning.  A description without a file is an
    error.
    """
    content_dir = Path(content_dir)
    src_dir = content_dir / "sources"
    files = {slug(p.stem): p for p in sorted(src_dir.glob("*.txt"))} if src_dir.is_dir() else {}
    described = _load_descriptions(content_dir / "sources.yaml", files, diagnostics)
    listings: list[Listing] = []
    for lid, info in described.items():
        if lid in files:
            listings.append(Listing(id=lid, path=files[lid], **info))
    for lid, path in files.items():
        if lid not in described:
            title = path.stem.replace("-", " ").replace("_", " ").strip().capitalize() or lid
            diagnostics.warning(
                f"listing '{path.name}' is not described in sources.yaml; using the title '{title}' "
                "and no capture date (add title, description and captured there)",
                Location(display_path(path)),
            )
            listings.append(Listing(id=lid, path=path, title=title))
    return listings


def read_entries(listing: Listing, diagnostics: Diagnostics) -> None:
    """Read and parse the file of *listing* into its entries."""
    listing.entries = _parse_cached(read_text(listing.path), listing, diagnostics)
    if not listing.entries:
        diagnostics.warning("this listing holds no papers", Location(display_path(listing.path)))


# Parsed listings by content, kept across rebuilds of a long-lived process (`mkdocs serve`):
# editing overrides.yaml or a template must not parse every listing again.
_PARSED: dict[tuple, tuple[list[Entry], list]] = {}
_PARSED_LIMIT = 256


def _parse_cached(text: str, listing: Listing, diagnostics: Diagnostics) -> list[Entry]:
    key = (listing.id, str(listing.path), listing.captured, hashlib.sha256(text.encode("utf-8")).hexdigest())
    hit = _PARSED.get(key)
    if hit is None:
        found = Diagnostics()
        entries = parse_listing(text, listing, found)
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        hit = _PARSED[key] = (entries, found.items)
    entries, items = hit
    diagnostics.items.extend(items)
    # Entries are only read downstream; a fresh list keeps callers from sharing one.
    return list(entries)


def _load_descriptions(path: Path, files: dict[str, Path], diagnostics: Diagnostics) -> dict[str, dict]:
    if not path.exists():
        return {}
    doc = load_yaml(path, diagnostics)
    out: dict[str, dict] = {}
    if doc.root is None:
        return out
    top = doc.root.mapping("sources.yaml (listing id -> description)")
    for key, node in doc.root.items if top is not None else []:
        lid = key.value
        if lid not in files:
            diagnostics.error(
                f"sources.yaml describes '{lid}' but there is no content/sources/{lid}.txt"
                f"{did_you_mean(lid, files)}",
                key.loc,
            )
            continue
        fields = node.mapping(f"the description of '{lid}'", _SOURCES_KEYS)
        if fields is None:
            continue
        info: dict = {"title": lid, "description": "", "captured": None}
        if "title" in fields:
            info["title"] = fields["title"].text(f"'{lid}'.title") or lid
        else:
            diagnostics.error(f"the description of '{lid}' needs a title", node.loc)
        if "description" in fields:
            info["description"] = fields["description"].text(f"'{lid}'.description") or ""
        if "captured" in fields:
            info["captured"] = fields["captured"].date(f"'{lid}'.captured")
        out[lid] = info
    return out
