"""The shared data model that flows one way through the pipeline.

extract -> ``Document`` with ``blocks`` (raw text units with layout hints)
segment -> ``Document.passages`` (one per paragraph, list item, table row, heading)
tagging -> ``Passage.tags``
scoring -> ``Document.verdicts``

Every stage imports this module and nothing of another stage. The objects are plain
dataclasses so that researchers can inspect them in a notebook and ``to_dict`` gives
JSON-ready values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Passage kinds: headings of three levels, paragraph, bullet item, numbered item,
#: table row. The labelled corpus uses the same set.
PASSAGE_KINDS = ("h1", "h2", "h3", "p", "li", "ol", "tr")
HEADING_KINDS = ("h1", "h2", "h3")


class ProtocolscanError(Exception):
    """Base class of the errors that end users see (messages are in Dutch)."""


class ExtractionError(ProtocolscanError):
    """A file could not be read. ``str(err)`` names the file and the reason."""

    def __init__(self, path: str | Path, reason: str, hint: str = ""):
        self.path = str(path)
        self.reason = reason
        self.hint = hint
        message = f"{self.path}: {reason}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class NeedsOCRError(ExtractionError):
    """The file has pages without a usable text layer and OCR is not available."""


@dataclass
class Block:
    """A raw unit of text as an extractor found it, before segmentation.

    ``kind`` is the extractor's best knowledge: ``h1``-``h3`` when the source marks a
    heading (style, font size, HTML tag), ``li``/``ol`` for list items, ``tr`` for
    table rows (with ``cells``), otherwise ``p``. ``ocr`` is true when the text came
    from optical character recognition.
    """

    text: str
    kind: str = "p"
    page: int | None = None
    cells: list[str] | None = None
    ocr: bool = False


@dataclass
class Tag:
    """One code assigned to a passage, with how sure we are and why."""

    code: str
    score: float
    source: str  # "rule", "classifier" or "both"
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Passage:
    """One paragraph, list item, table row or heading of a document.

    ``start``/``end`` are character offsets of ``text`` in ``Document.text``;
    ``page`` is 1-based, or None for formats without pages.
    """

    n: int
    kind: str
    text: str
    page: int | None = None
    heading_path: list[str] = field(default_factory=list)
    start: int = 0
    end: int = 0
    cells: list[str] | None = None
    ocr: bool = False
    tags: list[Tag] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [t.code for t in self.tags]

    @property
    def is_heading(self) -> bool:
        return self.kind in HEADING_KINDS


@dataclass
class Verdict:
    """The judgement of one requirement for one document."""

    requirement: str
    verdict: str  # voldaan | deels | ontbreekt | onjuist | nvt
    evidence: list[int] = field(default_factory=list)  # passage numbers
    note: str = ""


@dataclass
class Document:
    """A protocol (or part of one) as it moves through the pipeline."""

    id: str
    source: str = ""  # path of the file it came from
    format: str = ""  # pdf, docx, doc, odt, rtf, txt, md, html, json
    title: str = ""
    pages: int | None = None
    ocr_pages: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    text: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    verdicts: list[Verdict] = field(default_factory=list)

    def to_dict(self, blocks: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not blocks:
            data.pop("blocks")
        return data
