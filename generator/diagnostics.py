"""Errors and warnings about content, each tied to a place a person can open.

Every stage appends to one :class:`Diagnostics` collector instead of raising at the first
problem, so that the maintainer sees all mistakes in one run and fixes them together.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable


@dataclass(frozen=True, order=True)
class Location:
    """A place in a hand-edited file: path (as shown to the user), 1-based line and column."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.file}:{self.line}:{self.col}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    """One error or warning, printed as ``file:line:col: message``."""

    level: str  # "error" or "warning"
    message: str
    location: Location | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.message}"


@dataclass
class Diagnostics:
    """Collects every error and warning of a run, in the order they were found."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, message: str, location: Location | None = None) -> None:
        """Record an error: the build will stop once all input has been read."""
        self.items.append(Diagnostic("error", message, location))

    def warning(self, message: str, location: Location | None = None) -> None:
        """Record a warning: shown in the build log, fatal only under ``--strict``."""
        self.items.append(Diagnostic("warning", message, location))

    @property
    def errors(self) -> list[Diagnostic]:
        """The errors, in the order found."""
        return [d for d in self.items if d.level == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        """The warnings, in the order found."""
        return [d for d in self.items if d.level == "warning"]

    def raise_if_errors(self) -> None:
        """Stop with one :class:`ContentError` listing every error found so far."""
        if self.errors:
            raise ContentError(self.errors)


class ContentError(Exception):
    """Hand-edited content is invalid; the message lists every error, one per line."""

    def __init__(self, errors: Iterable[Diagnostic]):
        # Sorted by place, so the errors of one file read top to bottom.
        self.errors = sorted(errors, key=lambda e: (e.location is None, e.location or Location("")))
        n = len(self.errors)
        head = f"{n} error{'s' if n != 1 else ''} in content:"
        super().__init__("\n".join([head] + [f"  {e}" for e in self.errors]))

    def __reduce__(self):
        # Pickled with its diagnostics (it may be raised in a worker process).
        return (ContentError, (self.errors,))


def display_path(path: Path) -> str:
    """The path as the maintainer would type it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ``; did you mean 'x'?`` suffix naming the closest valid choice, or ``""`` if none is close."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
