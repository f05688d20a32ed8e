"""Access to the labelled corpus shipped in the repository (``corpora/`` + ``labels/``).

A labelled document is stored twice, under the same id: its text and structure in
``corpora/<set>/<id>.json`` and the human coding in ``labels/<set>/<id>.json``. See
``labels/README.md`` for the format. This module joins them into ``GoldDocument``
objects; training, evaluation and the extraction tests use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .model import Document, Passage

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPORA_DIR = REPO_ROOT / "corpora"
LABELS_DIR = REPO_ROOT / "labels"


@dataclass
class GoldDocument:
    """A document with its human coding."""

    document: Document
    level: str
    codes: list[list[str]]  # per passage, aligned with document.passages
    requirements: dict[str, dict] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.document.id


def document_from_json(data: dict) -> Document:
    """Build a segmented Document from the corpus JSON format (no extraction)."""
    passages: list[Passage] = []
    heading_path: list[str] = []
    offset = 0
    for p in data["passages"]:
        kind, text = p["kind"], p["text"]
        if kind in ("h1", "h2", "h3"):
            depth = int(kind[1])
            heading_path = heading_path[: depth - 1] + [text]
            path = heading_path[:-1]
        else:
            path = list(heading_path)
        passages.append(Passage(n=p["n"], kind=kind, text=text, heading_path=path,
                                start=offset, end=offset + len(text), cells=p.get("cells")))
        offset += len(text) + 2
    return Document(
        id=data["id"], format="json", title=data.get("title", ""), passages=passages,
        text="\n\n".join(p.text for p in passages),
        metadata={k: data[k] for k in ("sector", "level", "covers") if k in data},
    )


def load_gold(corpus_set: str = "seed", corpora_dir: Path = CORPORA_DIR,
              labels_dir: Path = LABELS_DIR) -> list[GoldDocument]:
    """Load every labelled document of a set, sorted by id."""
    docs = []
    for path in sorted((corpora_dir / corpus_set).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        label_path = labels_dir / corpus_set / path.name
        labels = json.loads(label_path.read_text(encoding="utf-8"))
        document = document_from_json(data)
        codes = [labels["codes"].get(str(p.n), []) for p in document.passages]
        docs.append(GoldDocument(document=document, level=labels["level"], codes=codes,
                                 requirements=labels.get("requirements", {})))
    return docs


def load_corpus_json(corpus_set: str = "seed", corpora_dir: Path = CORPORA_DIR) -> list[dict]:
    """The raw corpus JSON of a set (text and structure only), sorted by id."""
    return [json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((corpora_dir / corpus_set).glob("*.json"))]
