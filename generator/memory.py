"""Keeping Python's garbage collector out of the way of a build.

A build makes hundreds of thousands of small objects that all live until it ends (papers,
tags, related-paper links, escaped strings, pages).  Each time enough of them have been
made, the collector walks every object alive, again and again as the heap grows: at
10,000 papers about a second of work that frees nothing.  The pipeline makes next to no
reference cycles, so collecting is paused while it runs and resumes afterwards.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collection_paused() -> Iterator[None]:
    """Run the body with automatic garbage collection off, as it was before afterwards
    (nested uses are fine)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
