"""Build the report data (a JSON-ready dict, see ``schema.json``) from a scored Document.

Every output format renders this one dict, so the text, Markdown, HTML and JSON
reports always say the same. The requirement texts (title, explanation, question,
example, source) are passed in by the caller as plain dicts: the report stage does
not read the catalogue itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from ..model import Document, Passage

SCHEMA_VERSION = "1.0"
VERDICT_NL = {"voldaan": "voldaan", "deels": "deels", "ontbreekt": "ontbreekt",
              "onjuist": "onjuist", "nvt": "niet van toepassing"}
LAYER_NL = {"wet": "Wet", "mas": "MAS en goede praktijk", "wts": "Wet terugdringen schoolverzuim"}
LEVEL_NL = {"school": "schoolprotocol", "regionaal": "regionaal protocol"}
SECTOR_NL = {"po": "primair onderwijs", "so": "speciaal onderwijs", "vso": "voortgezet speciaal onderwijs",
             "vo": "voortgezet onderwijs", "regio": "regionaal"}
CATEGORY_NL = {"type": "Type verzuim (definitie)", "registratie": "Verzuimregistratie",
               "procedure": "Procedure verzuimmelding", "rol": "Rolverdeling/samenwerking",
               "protocol": "Verzuimprotocol", "niveau": "Niveau"}
# Order in which problems are listed: legal items first, and within a layer the
# wrong statements before the missing and the partial ones.
PROBLEM_ORDER = {"onjuist": 0, "ontbreekt": 1, "deels": 2}
LAYER_ORDER = {"wet": 0, "wts": 1, "mas": 2}
QUOTE_LIMIT = 300
TOPIC_QUOTE_LIMIT = 220


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def passage_ref(p: Passage, limit: int = QUOTE_LIMIT) -> dict[str, Any]:
    text = " | ".join(p.cells) if p.cells else p.text
    return {"n": p.n, "page": p.page, "quote": _shorten(text, limit),
            "heading": p.heading_path[-1] if p.heading_path else ""}


def _requirement_entry(verdict, req: dict[str, Any], details: dict[str, Any], weight: float | None,
                       by_n: dict[int, Passage]) -> dict[str, Any]:
    evidence = [passage_ref(by_n[n]) for n in verdict.evidence if n in by_n]
    wrong = [{"n": w["passage"], "page": w.get("page"), "quote": w["quote"], "note_nl": w["note"]}
             for w in details.get("wrong", [])]
    return {
        "id": verdict.requirement, "title_nl": req.get("title_nl", verdict.requirement),
        "layer": req.get("layer", ""), "weight": weight, "verdict": verdict.verdict,
        "verdict_nl": VERDICT_NL.get(verdict.verdict, verdict.verdict), "note_nl": verdict.note,
        "missing_nl": list(details.get("missing", [])) if verdict.verdict == "deels" else [],
        "wrong": wrong, "evidence": evidence, "source": req.get("source", ""),
        "link": req.get("link", ""), "covered_when": req.get("covered_when", ""),
        "explanation_nl": req.get("explanation_nl", ""), "question_nl": req.get("question_nl", ""),
        "example_nl": req.get("example_nl", ""),
    }


def _problems(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    problems = [e for e in entries if e["verdict"] in PROBLEM_ORDER]
    return sorted(problems, key=lambda e: (LAYER_ORDER.get(e["layer"], 9), PROBLEM_ORDER[e["verdict"]], e["id"]))


def visit_questions(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Questions for the school visit, generated from what is missing or wrong."""
    questions = []
    for e in problems:
        if e["verdict"] == "onjuist" and e["wrong"]:
            w = e["wrong"][0]
            quote = w["quote"].rstrip()
            end = "" if quote[-1:] in ".!?" else "."
            text = (f"Het protocol zegt: \u201c{quote}\u201d{end} {w['note_nl'][:1].upper()}{w['note_nl'][1:]}. "
                    f"Welke regel past de school in de praktijk toe?")
        elif e["verdict"] == "deels" and e["missing_nl"]:
            text = f"{e['question_nl']} (Het protocol noemt nog niet: {'; '.join(e['missing_nl'])}.)"
        else:
            text = e["question_nl"] or f"Hoe regelt de school: {e['title_nl'].lower()}?"
        questions.append({"requirement": e["id"], "title_nl": e["title_nl"], "verdict": e["verdict"],
                          "question_nl": text})
    return questions


def additions(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """'Wat kunt u toevoegen': per missing, partial or wrong item what to add and why."""
    return [{"requirement": e["id"], "title_nl": e["title_nl"], "verdict": e["verdict"],
             "explanation_nl": e["explanation_nl"], "example_nl": e["example_nl"],
             "missing_nl": e["missing_nl"], "source": e["source"], "link": e["link"]}
            for e in problems]


def topics(doc: Document, study_rows: list[dict[str, Any]], by_n: dict[int, Passage],
           max_passages: int = 6) -> list[dict[str, Any]]:
    """Topic coverage per codebook category, with the passages behind each topic and
    the study's figure for comparison."""
    categories: dict[str, dict[str, Any]] = {}
    for row in study_rows:
        if row["category"] == "niveau":
            continue
        cat = categories.setdefault(row["category"], {
            "category": row["category"], "label_nl": CATEGORY_NL.get(row["category"], row["category"]),
            "covered": 0, "total": 0, "codes": []})
        cat["total"] += 1
        cat["covered"] += bool(row["present"])
        cat["codes"].append({
            "code": row["code"], "label_nl": row["label_nl"], "present": row["present"],
            "passage_count": len(row["passages"]),
            "passages": [passage_ref(by_n[n], TOPIC_QUOTE_LIMIT) for n in row["passages"][:max_passages] if n in by_n],
            "study": {"schools": row["schools"], "percent": row["percent"], "n_schools": row["n_schools"],
                      "sentence_nl": row["sentence_nl"]},
        })
    return list(categories.values())


def _summary_nl(scoring: dict[str, Any], problems: list[dict[str, Any]]) -> list[str]:
    lines = list(scoring.get("summary", []))
    overall = scoring.get("scores", {}).get("overall", {})
    if overall.get("percent") is not None:
        lines.insert(0, f"Totaalscore: {overall['percent']:.0f}% ({overall['points']:g} van {overall['max']:g} punten, gewogen)")
    wrong = [p["id"] for p in problems if p["verdict"] == "onjuist"]
    if wrong:
        lines.append(f"Let op: {len(wrong)} onderde{'el' if len(wrong) == 1 else 'len'} onjuist weergegeven ({', '.join(wrong)}).")
    return lines


def build_report(doc: Document, requirements: Iterable[dict[str, Any]], generator: str = "protocolscan",
                 generated: str | None = None) -> dict[str, Any]:
    """The report dict of a scored document (``doc.metadata['scoring']`` must be set)."""
    scoring = doc.metadata.get("scoring")
    if not scoring:
        raise ValueError("document is not scored: run the scoring stage first")
    reqs = {r["id"]: r for r in requirements}
    by_n = {p.n: p for p in doc.passages}
    details = scoring.get("details", {})
    weights = scoring.get("weights", {})
    entries = [_requirement_entry(v, reqs.get(v.requirement, {}), details.get(v.requirement, {}),
                                  weights.get(v.requirement), by_n) for v in doc.verdicts]
    problems = _problems(entries)
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": generator,
        "generated": generated or dt.datetime.now().replace(microsecond=0).isoformat(),
        "document": {
            "id": doc.id, "title": doc.title, "source": doc.source, "format": doc.format,
            "pages": doc.pages, "passages": len(doc.passages), "warnings": list(doc.warnings),
            "sources": list(doc.metadata.get("sources", [])) or ([doc.source] if doc.source else []),
        },
        "scan": {
            "catalogue_version": scoring["catalogue_version"], "peildatum": scoring["peildatum"],
            "sector": scoring["sector"], "sector_nl": SECTOR_NL.get(scoring["sector"], scoring["sector"]),
            "covers": scoring["covers"], "level": scoring["level"],
            "level_nl": LEVEL_NL.get(scoring["level"], scoring["level"]),
            "sector_source": scoring.get("sector_source", "tekst"),
            "codes_source": doc.metadata.get("codes_source", ""),
        },
        "summary_nl": _summary_nl(scoring, problems),
        "scores": scoring["scores"],
        "problems": [e["id"] for e in problems],
        "requirements": entries,
        "topics": topics(doc, scoring.get("study", []), by_n),
        "study_source": scoring.get("study_source", ""),
        "questions": visit_questions(problems),
        "additions": additions(problems),
    }
