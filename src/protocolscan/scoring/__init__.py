"""Scoring stage: judge a tagged Document against the requirements catalogue.

``score(doc)`` sets ``doc.verdicts`` (one Verdict per requirement, in catalogue order)
and ``doc.metadata["scoring"]``: catalogue version, peildatum, detected sector and
level, details per requirement (what is missing, what is stated wrongly, with quotes),
scores per layer and overall, and the comparison with table B2.3 of the study.

Checkers use the passage codes (``Passage.tags``) and the literal text (numbers,
parties, phrases), so a missed or wrong code does not flip a legal verdict; without
any codes the text patterns still decide most requirements.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..model import Document
from .catalogue import (Catalogue, CatalogueError, Requirement, Settings, load_catalogue,
                        load_settings, load_study)
from .checkers import Finding, check_document
from .facts import extract_facts, normalize, parties_in
from .score import layer_scores, study_comparison, summary_line
from .sector import SectorInfo, detect_sector

__all__ = [
    "Catalogue", "CatalogueError", "Finding", "Requirement", "SectorInfo", "Settings",
    "detect_sector", "extract_facts", "load_catalogue", "load_settings", "load_study",
    "normalize", "parse_peildatum", "parties_in", "score", "summary_line",
]


def parse_peildatum(value: str | dt.date | None) -> dt.date:
    """A date from ``YYYY-MM-DD`` (default: today); Dutch error on bad input."""
    if value is None or value == "":
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CatalogueError(f"peildatum {value!r} is geen geldige datum (gebruik JJJJ-MM-DD)") from None


def score(doc: Document, catalogue: Catalogue | None = None, settings: Settings | None = None,
          sector: str | None = None, peildatum: str | dt.date | None = None,
          study: dict[str, Any] | None = None) -> Document:
    """Judge every requirement for ``doc`` and store verdicts and scores on it."""
    catalogue = catalogue or load_catalogue()
    settings = settings or load_settings()
    study = study if study is not None else load_study()
    day = parse_peildatum(peildatum)
    info = detect_sector(doc, sector)
    findings = check_document(doc, catalogue, info.covers, settings.regional)
    doc.verdicts = [f.verdict for f in findings]
    verdicts = {f.verdict.requirement: f.verdict.verdict for f in findings}
    scores = layer_scores(verdicts, catalogue, settings, day)
    doc.metadata["scoring"] = {
        "catalogue_version": catalogue.version,
        "catalogue_sources": [s.rsplit("/", 1)[-1] for s in catalogue.sources],
        "peildatum": day.isoformat(),
        "sector": info.sector, "covers": info.covers, "level": info.level,
        "sector_source": info.source,
        "details": {f.verdict.requirement: {"missing": f.missing, "found": f.found, "wrong": f.wrong}
                    for f in findings},
        "weights": {r.id: settings.weight(r, day) for r in catalogue.requirements},
        "scores": scores,
        "summary": [summary_line(layer) for layer in scores["layers"]],
        "study": study_comparison(doc, study, info.level) if study else [],
        "study_source": (study or {}).get("source", "").strip(),
    }
    return doc
