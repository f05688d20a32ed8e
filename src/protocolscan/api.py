"""The Python API: composes the pipeline stages.

This is the module researchers call from a notebook and the layer under the CLI and
the web app::

    from protocolscan import api
    doc = api.read("protocol.pdf")
    for p in doc.passages:
        print(p.page, p.kind, p.heading_path, p.text)

Stages never import each other; only this module wires them together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from .extract import ExtractOptions, extract
from .model import Document, ExtractionError
from .segment import segment

__all__ = ["ExtractOptions", "read", "read_many", "passage_records"]


def read(path: str | Path, options: ExtractOptions | None = None) -> Document:
    """Extract one file and split it into passages (raises ExtractionError)."""
    return segment(extract(path, options))


def read_many(paths: Iterable[str | Path], options: ExtractOptions | None = None
              ) -> Iterator[tuple[Path, Document | None, ExtractionError | None]]:
    """Read files one by one; a file that fails yields its error and the rest go on."""
    for path in paths:
        path = Path(path)
        try:
            yield path, read(path, options), None
        except ExtractionError as err:
            yield path, None, err


def passage_records(doc: Document) -> Iterator[dict]:
    """One JSON-ready record per passage (the JSONL format of ``protocolscan extract``)."""
    for p in doc.passages:
        record = {"doc": doc.id, "source": doc.source, "n": p.n, "kind": p.kind, "text": p.text,
                  "page": p.page, "heading_path": p.heading_path, "start": p.start, "end": p.end}
        if p.cells is not None:
            record["cells"] = p.cells
        if p.ocr:
            record["ocr"] = True
        if p.tags:
            record["codes"] = [t.code for t in p.tags]
            record["scores"] = {t.code: round(t.score, 4) for t in p.tags}
            record["evidence"] = {t.code: t.evidence for t in p.tags if t.evidence}
        yield record
