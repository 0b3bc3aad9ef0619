"""The ``readinglist`` command: the same core as the MkDocs plugin, without MkDocs.

``check`` validates the content and prints an accounting; ``write`` writes the generated
Markdown to a folder for other renderers; ``export`` writes data files; ``topics`` prints
the topic report; ``add-listing`` brings a newly copied listing into the content folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .diagnostics import ContentError, Diagnostics


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--content", default="content", type=Path, help="content folder (default: content)")
    p.add_argument("--templates", default="site_templates", type=Path, help="templates folder (default: site_templates)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``readinglist`` command."""
    parser = argparse.ArgumentParser(prog="readinglist", description="Build and check a reading-list site.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate all content and print an accounting")
    _common(p)
    p = sub.add_parser("topics", help="report topic sizes, weak matches and suggestions")
    _common(p)
    p = sub.add_parser("write", help="write the generated Markdown pages to a folder")
    _common(p)
    p.add_argument("--out", required=True, type=Path, help="folder to write into")
    p = sub.add_parser("export", help="export the papers as JSON, CSV or BibTeX")
    _common(p)
    p.add_argument("--format", choices=["json", "csv", "bibtex"], default="json")
    p.add_argument("--topic", help="only papers with this topic id")
    p.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    p = sub.add_parser("add-listing", help="copy a listing file into the content and describe it in sources.yaml")
    p.add_argument("file", type=Path, help="text file holding a copied Daily Papers page")
    p.add_argument("--title", required=True, help="title of the listing; its slug becomes the file name and id")
    p.add_argument("--captured", required=True, help="the day the page was copied, YYYY-MM-DD")
    p.add_argument("--description", help="one sentence on what the listing holds")
    p.add_argument("--content", default="content", type=Path, help="content folder (default: content)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (1 on content errors, no traceback)."""
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1


def _check(args: argparse.Namespace) -> int:
    from .check import run_check

    report = run_check(args.content)
    print(report.format())
    return 1 if report.errors else 0


def _topics(args: argparse.Namespace) -> int:
    from .pipeline import BuildOptions, gather
    from .topics import topic_report

    g = gather(args.content, BuildOptions(), Diagnostics())
    print(topic_report([p for p in g.papers if not p.hidden], g.taxonomy).format())
    return 0


def _write(args: argparse.Namespace) -> int:
    from .pipeline import build_site
    from .writer import WriteError, write_site

    site = build_site(args.content, args.templates)
    try:
        result = write_site(site, args.out)
    except (WriteError, OSError) as exc:
        print(f"readinglist write: {exc}", file=sys.stderr)
        return 1
    print(
        f"{args.out.as_posix()}: {len(result.written)} written, {len(result.unchanged)} unchanged, "
        f"{len(result.removed)} removed"
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from .exports import export_papers
    from .pipeline import build_site

    site = build_site(args.content, args.templates)
    try:
        data = export_papers(site, args.format, args.topic)
    except ContentError as exc:  # an unknown --topic: a mistake on the command line, not in the content
        print("readinglist export: " + "; ".join(e.message for e in exc.errors), file=sys.stderr)
        return 1
    if args.output:
        try:
            args.output.write_bytes(data)
        except OSError as exc:
            print(f"readinglist export: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return 1
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def _add_listing(args: argparse.Namespace) -> int:
    from .add_listing import AddListingError, add_listing

    try:
        result = add_listing(args.file, args.title, args.captured, args.description, args.content)
    except (AddListingError, OSError) as exc:  # OSError: the content folder cannot be written
        print(f"readinglist add-listing: {exc}", file=sys.stderr)
        return 1
    print(result.format())
    return 0


_COMMANDS = {"check": _check, "topics": _topics, "write": _write, "export": _export, "add-listing": _add_listing}
