"""The MkDocs plugin: a thin adapter around :func:`generator.pipeline.build_site`.

It runs the pipeline once per build (``on_files``), adds the pages as virtual files
(nothing is written into ``docs_dir``), watches the content and template folders under
``mkdocs serve``, adds the exports (``papers.json``, feeds) as generated files too, and turns content errors into a
``PluginError`` (a message, no traceback).  Warnings go through MkDocs logging so that
``--strict`` catches them.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel

from .diagnostics import ContentError
from .pipeline import BuildOptions, build_site, summary_line
from .related import RelatedOptions

log = get_plugin_logger("readinglist")


def write_if_changed(path: Path, data: bytes) -> Path:
    """Write *data* to *path* unless it already holds exactly that, so an unchanged page
    keeps its modification time (MkDocs' dirty builds skip pages older than their output)."""
    try:
        if path.read_bytes() == data:
            return path
    except OSError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


class ReadingListConfig(Config):
    """Options of the ``readinglist`` plugin in ``mkdocs.yml``."""

    content_dir = c.Type(str, default="content")
    """Folder with ``sources/``, ``sources.yaml``, ``topics.yaml``, ``overrides.yaml``, ``papers.yaml``."""
    templates_dir = c.Type(str, default="site_templates")
    """Folder with the Jinja2 templates of the generated pages."""
    related_count = c.Type(int, default=8)
    """At most this many related papers per paper."""
    related_min_score = c.Type(float, default=RelatedOptions().min_score)
    """Related papers scoring below this are not shown."""


class ReadingListPlugin(BasePlugin[ReadingListConfig]):
    """Generates the reading-list pages inside ``mkdocs build`` and ``mkdocs serve``."""

    serving = False

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Note whether this is ``mkdocs serve``: there pages are backed by cached files so
        that ``mkdocs serve --dirty`` re-renders only the pages an edit changed."""
        self.serving = command == "serve"

    def on_config(self, config):
        """Resolve folders against ``mkdocs.yml`` and register the stylesheet."""
        base = Path(config.config_file_path or ".").parent
        self.content_dir = (base / self.config.content_dir).resolve()
        self.templates_dir = (base / self.config.templates_dir).resolve()
        for folder, key in ((self.content_dir, "content_dir"), (self.templates_dir, "templates_dir")):
            if not folder.is_dir():
                raise PluginError(f"readinglist: {key} '{folder}' is not a folder")
        if self.config.related_count < 0:
            raise PluginError("readinglist: related_count must be 0 or more")
        for sheet in ("assets/readinglist.css", "assets/map.css"):
            if sheet not in config.extra_css:
                config.extra_css.append(sheet)
        # Layouts are cached beside mkdocs.yml, like other MkDocs plugins' caches.
        self.cache_dir = base / ".cache" / "readinglist"
        self.site = None
        return config

    def on_files(self, files: Files, config) -> Files:
        """Run the pipeline and add every generated page and asset as a virtual file."""
        options = BuildOptions(
            site_name=config.site_name,
            site_description=config.site_description or "",
            site_url=config.site_url or "",
            cache_dir=self.cache_dir,
            related=RelatedOptions(k=self.config.related_count, min_score=self.config.related_min_score),
        )
        try:
            self.site = build_site(self.content_dir, self.templates_dir, options)
        except ContentError as exc:
            raise PluginError(str(exc)) from None
        for message in self.site.warnings:
            log.warning(message)
        for src, markdown in self.site.pages.items():
            if files.get_file_from_path(src) is not None:
                raise PluginError(f"readinglist: docs_dir already has '{src}', which the reading list generates")
            # Paper, topic and listing pages stay out of the nav without a log line each.
            inclusion = InclusionLevel.INCLUDED if src in self.site.nav_pages else InclusionLevel.NOT_IN_NAV
            if self.serving:
                path = write_if_changed(self.cache_dir / "pages" / src, markdown.encode("utf-8"))
                files.append(File.generated(config, src, abs_src_path=str(path), inclusion=inclusion))
            else:
                files.append(File.generated(config, src, content=markdown, inclusion=inclusion))
        # Exports are files of the site too, so that links to them validate and
        # `mkdocs serve` serves them.
        for src, data in {**self.site.assets, **self.site.exports}.items():
            files.append(File.generated(config, src, content=data))
        log.info(summary_line(self.site))
        return files

    def on_serve(self, server, config, builder):
        """Rebuild when content or templates change under ``mkdocs serve``."""
        server.watch(str(self.content_dir))
        server.watch(str(self.templates_dir))
        return server
