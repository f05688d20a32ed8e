"""Command-line interface (click). A thin layer over ``protocolscan.api``.

Messages for end users are in Dutch; errors name the file and the reason.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import click

from . import __version__

OCR_CHOICES = click.Choice(["auto", "always", "never"])


def _err(message: str) -> None:
    click.echo(message, err=True)


@contextmanager
def _output(path: str | None):
    """Write to stdout, or atomically to a file (a temp file renamed when complete)."""
    if not path or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _extract_options(ocr: str, pdf_engine: str, max_pages: int):
    from .api import ExtractOptions
    return ExtractOptions(ocr=ocr, pdf_engine=pdf_engine, max_pages=max_pages)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="protocolscan")
def main() -> None:
    """protocolscan: leest verzuimprotocollen van scholen en zegt wat erin staat en wat ontbreekt."""


@main.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl", show_default=True,
              help="Uitvoer: JSONL (één regel per passage) of leesbare tekst.")
@click.option("-o", "--output", "output", default=None, help="Schrijf naar dit bestand in plaats van de terminal.")
@click.option("--ocr", type=OCR_CHOICES, default="auto", show_default=True,
              help="OCR voor gescande pagina's: auto, always of never.")
@click.option("--pdf-engine", type=click.Choice(["auto", "pdfium", "pdfplumber"]), default="auto", show_default=True)
@click.option("--max-pages", type=int, default=5000, show_default=True, help="Weiger PDF's met meer pagina's.")
def extract_cmd(files, fmt, output, ocr, pdf_engine, max_pages):
    """Haal de tekst uit protocollen (PDF, DOCX, DOC, ODT, RTF, TXT, MD, HTML) als passages."""
    from .api import passage_records, read_many

    failures = 0
    with _output(output) as out:
        for path, doc, error in read_many(files, _extract_options(ocr, pdf_engine, max_pages)):
            if error is not None:
                failures += 1
                _err(f"FOUT: {error}")
                continue
            for warning in doc.warnings:
                _err(f"LET OP: {path}: {warning}")
            if fmt == "jsonl":
                for record in passage_records(doc):
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                out.write(_as_text(doc))
    if failures:
        _err(f"{failures} van {len(files)} bestand(en) konden niet gelezen worden.")
        sys.exit(1)


def _as_text(doc) -> str:
    lines = [f"== {doc.source} ({doc.format}" + (f", {doc.pages} pagina's" if doc.pages else "")
             + (f", OCR op pagina {', '.join(map(str, doc.ocr_pages))}" if doc.ocr_pages else "") + ")"]
    for p in doc.passages:
        page = f"p.{p.page:<3}" if p.page else "     "
        indent = "  " * len(p.heading_path)
        lines.append(f"{page} {p.kind:<2} {indent}{p.text}")
    return "\n".join(lines) + "\n\n"


if __name__ == "__main__":
    main()
