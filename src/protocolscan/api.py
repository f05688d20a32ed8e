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

__all__ = ["ExtractOptions", "read", "read_many", "passage_records", "tag", "score", "report",
           "scan", "scan_report"]


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
            record["sources"] = {t.code: t.source for t in p.tags}
            record["evidence"] = {t.code: t.evidence for t in p.tags if t.evidence}
        yield record


# ---------------------------------------------------------------- tagging and scoring
# The training/evaluation and audit compositions live in ``learn`` and ``audit``;
# these functions are the stable entry points that the CLI, the batch runner and
# the web app call.

def tag(doc: Document, tagger=None) -> Document:
    """Code every passage with the shipped tagger (or ``tagger``); returns ``doc``."""
    from . import learn

    learn.tag_document(doc, tagger or _default_tagger())
    doc.metadata["codes_source"] = "model"
    return doc


_TAGGER = None


def _default_tagger():
    global _TAGGER
    if _TAGGER is None:
        from . import learn

        _TAGGER = learn.load_tagger()
    return _TAGGER


def score(doc: Document, sector: str | None = None, peildatum: str | None = None,
          requirements: str | Path | None = None, extensions: Iterable[str | Path] = ()) -> Document:
    """Judge every requirement of the catalogue; fills ``doc.verdicts``; returns ``doc``."""
    from . import audit

    catalogue = audit.load_catalogue(requirements, extensions)
    audit.score_document(doc, catalogue, sector=sector, peildatum=peildatum)
    return doc


def report(doc: Document, fmt: str = "text", requirements: str | Path | None = None,
           extensions: Iterable[str | Path] = (), color: bool = False) -> str:
    """The Dutch report of a scored document: text, json, md or html. Pass the same
    catalogue arguments as to ``score``."""
    from . import audit

    return audit.render_report(doc, fmt, audit.load_catalogue(requirements, extensions), color=color)


def scan(paths: Iterable[str | Path], sector: str | None = None, peildatum: str | None = None,
         requirements: str | Path | None = None, extensions: Iterable[str | Path] = (),
         options: ExtractOptions | None = None) -> Document:
    """Read, code and score one protocol made of one or more files (protocol plus
    annexes). Raises ExtractionError for the first file that cannot be read."""
    from . import audit

    doc = audit.merge_documents([read(p, options) for p in paths])
    tag(doc)
    return score(doc, sector=sector, peildatum=peildatum, requirements=requirements, extensions=extensions)


def scan_report(paths: Iterable[str | Path], fmt: str = "text", **kwargs) -> tuple[Document, str]:
    """``scan`` plus ``report`` in one call."""
    doc = scan(paths, **kwargs)
    return doc, report(doc, fmt, kwargs.get("requirements"), kwargs.get("extensions", ()))
