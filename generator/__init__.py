"""readinglist: turn listings of research papers into a static reading-list site.

The package is a pure core (``sources`` -> ``catalog`` -> ``overrides`` -> ``topics`` ->
``related`` -> ``render``) plus thin adapters: the MkDocs plugin and the CLI.
"""

from __future__ import annotations

__version__ = "0.1.0"
