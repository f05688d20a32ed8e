"""Compose scoring and reporting: the functions behind ``protocolscan scan`` and
``protocolscan requirements``, and the evaluation of verdicts against the labelled
corpus.

Like ``api.py`` this module may import several stages (they never import each
other)::

    from protocolscan import audit
    doc = audit.score_document(doc)                 # verdicts + scores on the Document
    html = audit.render_report(doc, "html")         # text | json | md | html
    print(audit.evaluate_verdicts().to_text())      # agreement with the gold verdicts
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from . import __version__
from .model import Document, Passage, Tag
from .report import build_report, load_schema, render
from .scoring import (Catalogue, CatalogueError, Settings, load_catalogue, load_settings,
                      load_study, parse_peildatum, score)

__all__ = ["VERDICTS", "VerdictEvaluation", "catalogue_as_dicts", "evaluate_verdicts",
           "list_requirements", "load_catalogue", "merge_documents", "report_dict",
           "render_report", "requirements_text", "score_document", "CatalogueError"]

VERDICTS = ("voldaan", "deels", "ontbreekt", "onjuist", "nvt")
MISSING = ("ontbreekt", "onjuist")
GENERATOR = f"protocolscan {__version__}"


def catalogue_as_dicts(catalogue: Catalogue) -> list[dict[str, Any]]:
    """The user-facing fields of each requirement, as plain dicts (for reports/JSON)."""
    return [{"id": r.id, "title_nl": r.title_nl, "layer": r.layer, "sectors": r.sectors,
             "weight": r.weight, "source": r.source, "link": r.link, "covered_when": r.covered_when,
             "explanation_nl": r.explanation_nl, "question_nl": r.question_nl, "example_nl": r.example_nl}
            for r in catalogue.requirements]


def score_document(doc: Document, catalogue: Catalogue | None = None, sector: str | None = None,
                   peildatum: str | dt.date | None = None, settings: Settings | None = None) -> Document:
    """Set ``doc.verdicts`` and ``doc.metadata['scoring']`` (see ``scoring.score``).

    The document should be tagged (``Passage.tags``); without tags the checkers fall
    back on the text patterns alone and topic coverage stays empty.
    """
    return score(doc, catalogue=catalogue or load_catalogue(), settings=settings or load_settings(),
                 sector=sector, peildatum=peildatum, study=load_study())


def report_dict(doc: Document, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The report of a scored document as a JSON-ready dict (``report/schema.json``)."""
    catalogue = catalogue or load_catalogue()
    return build_report(doc, catalogue_as_dicts(catalogue), generator=GENERATOR)


def render_report(doc: Document, fmt: str = "text", catalogue: Catalogue | None = None,
                  color: bool = False) -> str:
    """Render a scored document as ``text``, ``json``, ``md`` or ``html``."""
    return render(report_dict(doc, catalogue), fmt, color=color)


def merge_documents(docs: Sequence[Document], doc_id: str | None = None) -> Document:
    """Several files of one school (protocol plus annexes) as one protocol.

    Passages are renumbered in order; each keeps its page, and the heading path gets
    the file's title in front when there is more than one file.
    """
    if len(docs) == 1:
        return docs[0]
    passages: list[Passage] = []
    texts: list[str] = []
    offset = 0
    for doc in docs:
        label = doc.title or Path(doc.source).name or doc.id
        for p in doc.passages:
            text = p.text
            passages.append(Passage(n=len(passages), kind=p.kind, text=text, page=p.page,
                                    heading_path=[label] + list(p.heading_path), start=offset,
                                    end=offset + len(text), cells=p.cells, ocr=p.ocr, tags=list(p.tags)))
            texts.append(text)
            offset += len(text) + 2
    first = docs[0]
    return Document(
        id=doc_id or first.id, source=first.source, format=first.format, title=first.title,
        pages=sum(d.pages or 0 for d in docs) or None,
        warnings=[w for d in docs for w in d.warnings], passages=passages, text="\n\n".join(texts),
        metadata={"sources": [d.source for d in docs]},
    )


def list_requirements(catalogue: Catalogue | None = None, peildatum: str | None = None) -> list[dict[str, Any]]:
    """The catalogue with the weight each requirement has on the peildatum."""
    catalogue = catalogue or load_catalogue()
    settings = load_settings()
    day = parse_peildatum(peildatum)
    rows = catalogue_as_dicts(catalogue)
    for row, req in zip(rows, catalogue.requirements):
        row["weight"] = settings.weight(req, day)
    return rows


def requirements_text(catalogue: Catalogue | None = None, peildatum: str | None = None) -> str:
    """``protocolscan requirements`` as plain text (Dutch)."""
    catalogue = catalogue or load_catalogue()
    day = parse_peildatum(peildatum)
    lines = [f"Eisenlijst versie {catalogue.version} ({len(catalogue.requirements)} eisen), "
             f"gewichten op peildatum {day.isoformat()}", ""]
    for row in list_requirements(catalogue, day.isoformat()):
        sectors = "alle sectoren" if "all" in row["sectors"] else ", ".join(row["sectors"])
        lines.append(f"{row['id']}  {row['title_nl']}  [{row['layer']}, gewicht {row['weight']:g}, {sectors}]")
        lines.append(f"     Voldaan als: {row['covered_when']}")
        lines.append(f"     Bron: {row['source']}" + (f" ({row['link']})" if row["link"] else ""))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- evaluation

@dataclass
class VerdictEvaluation:
    """Agreement of predicted verdicts with the gold verdicts of the labelled corpus."""

    codes: str  # "gold" or "model (kruisvalidatie)" ...
    documents: int = 0
    pairs: list[tuple[str, str, str, str]] = field(default_factory=list)  # doc, req, gold, pred
    notes: list[str] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        return sum(g == p for _, _, g, p in self.pairs) / len(self.pairs) if self.pairs else 0.0

    def confusion(self) -> dict[str, dict[str, int]]:
        counts = Counter((g, p) for _, _, g, p in self.pairs)
        return {g: {p: counts[(g, p)] for p in VERDICTS} for g in VERDICTS}

    def _w_missing(self) -> list[tuple[str, str, str, str]]:
        return [t for t in self.pairs if t[1].startswith("W") and t[2] in MISSING]

    @property
    def w_missing_recall(self) -> float:
        """Of the W items the gold calls ontbreekt/onjuist, the share predicted as such."""
        rows = self._w_missing()
        return sum(p in MISSING for *_, p in rows) / len(rows) if rows else 1.0

    @property
    def w_missing_as_voldaan(self) -> int:
        """W items missing or wrong in the gold but reported as voldaan (the worst error)."""
        return sum(p == "voldaan" for *_, p in self._w_missing())

    def per_requirement(self) -> dict[str, float]:
        by: dict[str, list[bool]] = {}
        for _, req, g, p in self.pairs:
            by.setdefault(req, []).append(g == p)
        return {k: sum(v) / len(v) for k, v in sorted(by.items())}

    def per_layer(self) -> dict[str, float]:
        by: dict[str, list[bool]] = {}
        for _, req, g, p in self.pairs:
            by.setdefault(req[0], []).append(g == p)
        return {k: sum(v) / len(v) for k, v in sorted(by.items())}

    def to_dict(self) -> dict[str, Any]:
        w_rows = self._w_missing()
        return {
            "codes": self.codes, "documents": self.documents, "verdicts": len(self.pairs),
            "agreement": round(self.agreement, 4),
            "w_missing_recall": round(self.w_missing_recall, 4), "w_missing_total": len(w_rows),
            "w_missing_as_voldaan": self.w_missing_as_voldaan,
            "per_layer": {k: round(v, 4) for k, v in self.per_layer().items()},
            "per_requirement": {k: round(v, 4) for k, v in self.per_requirement().items()},
            "confusion": self.confusion(), "notes": list(self.notes),
        }

    def to_text(self) -> str:
        d = self.to_dict()
        lines = [
            f"Oordelen vergeleken met de gouden standaard ({d['documents']} documenten, {d['verdicts']} oordelen; codes: {self.codes})",
            f"  exacte overeenstemming (5 klassen): {d['agreement']:.3f}",
            f"  recall ontbreekt/onjuist bij W-eisen: {d['w_missing_recall']:.3f} "
            f"(van {d['w_missing_total']}; als voldaan gemeld: {d['w_missing_as_voldaan']})",
            "  per laag: " + ", ".join(f"{k}: {v:.3f}" for k, v in d["per_layer"].items()),
            "  per eis: " + " ".join(f"{k} {v:.2f}" for k, v in d["per_requirement"].items()),
            "  verwarringsmatrix (rij = gouden oordeel, kolom = voorspeld):",
            "  " + " " * 10 + "".join(f"{v[:9]:>10}" for v in VERDICTS),
        ]
        for g in VERDICTS:
            lines.append(f"  {g[:9]:<10}" + "".join(f"{d['confusion'][g][p]:>10}" for p in VERDICTS))
        lines += [f"  let op: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def _gold_tags(passages: list[Passage], codes: list[list[str]]) -> None:
    for p, cs in zip(passages, codes):
        p.tags = [Tag(c, 1.0, "gold") for c in cs]


def cross_validated_codes(sets: Sequence[str] = ("seed",), folds: int = 5) -> dict[str, list[list[str]]]:
    """Codes per passage for every labelled document, predicted by a tagger trained
    on the other folds (grouped by document), using the tagging stage's training
    API. Slow: one training per fold (minutes each)."""
    import copy

    learn = importlib.import_module("protocolscan.learn")
    from .tagging.tagger import DEFAULT_SEED, Tagger

    # Train on every labelled set the tagger normally uses (the `extra` set has codes
    # but no verdicts); the folds are grouped by document, so each document's codes
    # come from a model that never saw it.
    docs = learn.labelled_documents(tuple(dict.fromkeys([*sets, *getattr(learn, "DEFAULT_SETS", ())])))
    book = learn.load_codebook()
    rules = learn.load_rules(None, book)
    predicted: dict[str, list[list[str]]] = {}
    for train_idx, test_idx in learn.grouped_folds(docs, folds, DEFAULT_SEED):
        tagger = Tagger.train([docs[i] for i in train_idx], book, rules, seed=DEFAULT_SEED)
        for i in test_idx:
            document = copy.deepcopy(docs[i].document)
            for p in document.passages:
                p.tags = []
            tagger.tag(document)
            predicted[document.id] = [[t.code for t in p.tags] for p in document.passages]
    return predicted


def _predicted_codes(sets: Sequence[str]) -> tuple[dict[str, list[list[str]]] | None, str]:
    """Per document the codes of a model that did not see that document, or None
    and the reason."""
    try:
        importlib.import_module("protocolscan.learn")
        importlib.import_module("protocolscan.tagging.tagger")
    except ImportError:
        return None, "geen tagger beschikbaar (protocolscan.learn ontbreekt): alleen gouden codes gebruikt"
    try:
        return cross_validated_codes(sets), "codes voorspeld door een tagger die het document niet zag (5-voudige kruisvalidatie per document)"
    except Exception as err:  # report and fall back rather than fail the evaluation
        return None, f"kruisvalidatie van de tagger mislukt ({err}): alleen gouden codes gebruikt"


def evaluate_verdicts(sets: Sequence[str] = ("seed",), use_gold_codes: bool = True,
                      catalogue: Catalogue | None = None, codes: str | None = None,
                      predicted: dict[str, list[list[str]]] | None = None) -> VerdictEvaluation:
    """Score every labelled document and compare with its gold verdicts.

    With ``use_gold_codes`` the passages carry the human codes, which measures the
    checkers alone; otherwise codes come from cross-validated model predictions
    (by document), which measures the whole pipeline. ``codes="none"`` scores with no
    codes at all (text patterns only: how far the checkers degrade). ``predicted``
    passes precomputed codes per document id (e.g. from ``cross_validated_codes``).
    """
    from .gold import load_gold  # labelled data: only evaluation needs it

    catalogue = catalogue or load_catalogue()
    settings = load_settings()
    study = load_study()
    golds = [g for s in sets for g in load_gold(s)]
    if codes == "none":
        evaluation = VerdictEvaluation(codes="geen codes (alleen tekstpatronen)")
    else:
        evaluation = VerdictEvaluation(codes="gouden codes" if use_gold_codes and predicted is None
                                       else "voorspelde codes (kruisvalidatie)")
    if codes != "none" and not use_gold_codes and predicted is None:
        predicted, note = _predicted_codes(sets)
        evaluation.notes.append(note)
        if predicted is None:
            evaluation.codes = "gouden codes (geen model beschikbaar)"
    for g in golds:
        if not g.requirements:  # e.g. the `extra` set: codes only, no verdicts
            continue
        doc = g.document
        if codes == "none":
            passage_codes = [[] for _ in doc.passages]
        else:
            passage_codes = predicted.get(g.id, g.codes) if predicted else g.codes
        _gold_tags(doc.passages, passage_codes)
        score(doc, catalogue=catalogue, settings=settings, study=study)
        evaluation.documents += 1
        for v in doc.verdicts:
            gold = g.requirements.get(v.requirement)
            if gold is not None:
                evaluation.pairs.append((g.id, v.requirement, gold["verdict"], v.verdict))
    return evaluation


def schema() -> dict:
    """The JSON schema of the report (for ``--format json`` consumers)."""
    return load_schema()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m protocolscan.audit evaluate [--codes gold|model|none] [--json]``
    (the lead wires the same into ``protocolscan evaluate``)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m protocolscan.audit",
                                     description="Vergelijk de oordelen met de gouden standaard.")
    parser.add_argument("command", choices=["evaluate", "requirements"])
    parser.add_argument("--codes", choices=["gold", "model", "none"], default="gold",
                        help="codes per passage: gouden codes, een kruisgevalideerd model of geen")
    parser.add_argument("--sets", default="seed", help="corpusdelen, met komma's gescheiden")
    parser.add_argument("--json", action="store_true", help="uitvoer als JSON")
    args = parser.parse_args(argv)
    if args.command == "requirements":
        print(requirements_text(), end="")
        return 0
    evaluation = evaluate_verdicts(tuple(args.sets.split(",")), use_gold_codes=args.codes == "gold",
                                   codes="none" if args.codes == "none" else None)
    print(json.dumps(evaluation.to_dict(), ensure_ascii=False, indent=2) if args.json else evaluation.to_text(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
