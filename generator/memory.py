"""Keeping Python's garbage collector out of the way of a build.

A build makes millions of small objects that all live until it ends (papers, tags,
related-paper links, escaped strings, pages).  Each time enough of them have been made,
the collector walks every object alive, again and again as the heap grows: at 10,000
papers about a second of work that frees nothing.  The pipeline makes next to no
reference cycles, so collecting is paused while it runs.

When the pause ends, the objects made meanwhile are frozen (``gc.freeze``): the next
collection would otherwise look through all of them at once (0.4 s at 10,000 papers) to
free nothing, and in ``mkdocs build`` every later full collection would again.  Frozen
objects are still freed as soon as nothing refers to them; only reference cycles among
them wait until :func:`release`, which a long-running process (``mkdocs serve``) calls
after each build.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

_depth = 0  # paused sections open (they nest)


@contextmanager
def collection_paused() -> Iterator[None]:
    """Run the body with automatic garbage collection off, as it was before afterwards;
    the outermost section freezes what it leaves alive (nested uses are fine)."""
    global _depth
    enabled = gc.isenabled()
    gc.disable()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.freeze()
        if enabled:
            gc.enable()


def release() -> None:
    """Hand the objects frozen by paused sections back to the garbage collector, so that a
    process that goes on after a build (``mkdocs serve``) collects its reference cycles."""
    gc.unfreeze()
