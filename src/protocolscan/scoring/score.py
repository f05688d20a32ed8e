"""Scores per layer and overall, and the comparison with the study's table B2.3."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..model import Document
from .catalogue import Catalogue, Settings

LAYER_LABELS = {"wet": "wettelijke onderdelen", "mas": "MAS en goede praktijk",
                "wts": "Wet terugdringen schoolverzuim"}
VERDICT_ORDER = ("voldaan", "deels", "ontbreekt", "onjuist", "nvt")


def layer_scores(verdicts: dict[str, str], catalogue: Catalogue, settings: Settings,
                 peildatum: dt.date) -> dict[str, Any]:
    """Counts and weighted scores per layer and overall; ``nvt`` is left out."""
    layers: dict[str, dict[str, Any]] = {}
    total_points = total_max = 0.0
    for req in catalogue.requirements:
        verdict = verdicts.get(req.id)
        if verdict is None:
            continue
        layer = layers.setdefault(req.layer, {
            "layer": req.layer, "label_nl": LAYER_LABELS.get(req.layer, req.layer),
            "weight": settings.weight(req, peildatum), **{v: 0 for v in VERDICT_ORDER},
            "applicable": 0, "points": 0.0, "max": 0.0})
        layer[verdict] += 1
        if verdict == "nvt":
            continue
        weight = settings.weight(req, peildatum)
        points = settings.verdict_points.get(verdict, 0.0) * weight
        layer["applicable"] += 1
        layer["points"] += points
        layer["max"] += weight
        total_points += points
        total_max += weight
    for layer in layers.values():
        layer["percent"] = round(100 * layer["points"] / layer["max"], 1) if layer["max"] else None
        layer["points"] = round(layer["points"], 2)
    overall = {"points": round(total_points, 2), "max": round(total_max, 2),
               "percent": round(100 * total_points / total_max, 1) if total_max else None}
    ordered = [layers[k] for k in ("wet", "mas", "wts") if k in layers]
    ordered += [v for k, v in layers.items() if k not in ("wet", "mas", "wts")]
    return {"layers": ordered, "overall": overall}


def summary_line(layer: dict[str, Any]) -> str:
    """'wettelijke onderdelen: 11 van 15 voldaan' (nvt items are not counted)."""
    line = f"{layer['label_nl']}: {layer['voldaan']} van {layer['applicable']} voldaan"
    extra = [f"{layer[v]} {v}" for v in ("deels", "onjuist", "ontbreekt") if layer[v]]
    if extra:
        line += " (" + ", ".join(extra) + ")"
    return line


def codes_present(doc: Document) -> dict[str, list[int]]:
    """Passage numbers per code found in the document."""
    found: dict[str, list[int]] = {}
    for p in doc.passages:
        for code in dict.fromkeys(p.codes):
            found.setdefault(code, []).append(p.n)
    return found


def study_comparison(doc: Document, study: dict[str, Any], level: str | None = None) -> list[dict[str, Any]]:
    """Per code of table B2.3: the study's figure and whether this protocol has it.

    The document-level codes (niveau.*) follow the detected level; the optional
    'bijzonderheden' are left out (the study coded them by judgement).
    """
    present = codes_present(doc)
    n = study.get("n_schools", 45)
    rows = []
    for code, row in study["codes"].items():
        if row.get("category") == "bijzonder":
            continue
        if code.startswith("niveau."):
            has = level is not None and code == f"niveau.{level}"
            passages: list[int] = []
        else:
            passages = present.get(code, [])
            has = bool(passages)
        rows.append({
            "code": code, "label_nl": row["label_nl"], "category": row["category"],
            "schools": row["scholen"], "percent": row["procent"], "n_schools": n,
            "present": has, "passages": passages, "sentence_nl": _sentence(row, n, has),
        })
    return rows


def _sentence(row: dict[str, Any], n: int, has: bool) -> str:
    verb = row.get("verb_nl")
    if not verb:
        return f"{row['procent']}% van de {n} scholen in het onderzoek: {row['label_nl']}."
    own = "dit protocol doet dat wel" if has else "dit protocol doet dat niet"
    return f"{row['procent']}% van de {n} scholen in het onderzoek {verb}; {own}."
