"""``readinglist check``: validate all content without building and account for it.

The accounting answers the questions a maintainer has after an edit: did every listing
parse, how many entries merged, which fields are set by hand, which papers lack a date or
a topic, and what is wrong (``file:line:col``).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic, Diagnostics
from .pipeline import read_content


@dataclass
class CheckReport:
    """What ``readinglist check`` found."""

    lines: list[str] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)

    def format(self) -> str:
        """The report as printed: accounting, then warnings, then errors, then a verdict."""
        out = list(self.lines)
        if self.warnings:
            out += ["", f"{len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}:"]
            out += [f"  {w}" for w in self.warnings]
        if self.errors:
            out += ["", f"{len(self.errors)} error{'s' if len(self.errors) != 1 else ''}:"]
            out += [f"  {e}" for e in sorted(self.errors, key=lambda e: (e.location is None, str(e.location)))]
        out += ["", "FAILED: fix the errors above." if self.errors else "OK: the content is valid."]
        return "\n".join(out)


def run_check(content_dir: Path) -> CheckReport:
    """Validate every content file and count what the site will hold."""
    started = time.perf_counter()
    d = Diagnostics()
    g = read_content(Path(content_dir), d)
    listings, papers, taxonomy, curation = g.listings, g.papers, g.taxonomy, g.curation
    visible = [p for p in papers if not p.hidden]
    entries = g.entry_count
    fields = Counter(f for p in papers for f in p.overridden)
    r = CheckReport(errors=d.errors, warnings=d.warnings)
    r.lines.append("Listings:")
    width = max((len(x.id) for x in listings), default=0)
    for x in listings:
        captured = x.captured.isoformat() if x.captured else "no capture date"
        r.lines.append(f"  {x.id:<{width}}  {len(x.entries):>4} entries  ({captured})")
    r.lines += [
        "",
        f"Entries:             {entries}",
        f"Papers:              {len(visible)} shown, {len(papers) - len(visible)} hidden",
        f"Merged duplicates:   {g.merged} entries merged across listings, "
        f"{len(curation.redirects)} papers merged by hand (duplicate_of)",
        f"Hand-added papers:   {sum(1 for p in papers if p.hand_added)}",
        f"Overridden fields:   {sum(fields.values())}" + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(fields.items())) + ")" if fields else ""),
        f"Without a date:      {sum(1 for p in visible if not p.date)}",
        f"Without topics:      {sum(1 for p in visible if not p.topics)}",
        f"Topics:              {len(taxonomy.topics)}",
        f"Checked in {time.perf_counter() - started:.2f} s",
    ]
    return r
