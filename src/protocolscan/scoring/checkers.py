"""Decide each requirement of the catalogue for one document.

A requirement's ``check`` (catalogue data, see ``docs/report-schema.md`` and the
comments in ``requirements.yaml``) says

* which passages are about it (``scope``): passages with one of the codes, or whose
  text matches one of the patterns, so that a missing or wrong code does not hide a
  passage that literally states the rule;
* what a protocol must say (``elements``), each found in a passage of the scope (or
  anywhere in the document);
* how a rule can be stated wrongly (``wrong``): a sentence that presents a number as
  the rule while the law says another.

Verdict: ``nvt`` when the requirement does not apply to the sector; ``onjuist`` when a
wrong rule is stated; ``ontbreekt`` when nothing in scope or fewer than ``deels``
elements; ``voldaan`` when ``voldaan`` elements (default all) are found, otherwise
``deels`` with a note naming what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

from ..model import Document, Passage, Verdict
from .catalogue import Catalogue, Element, Requirement, WrongRule
from .facts import extract_facts, normalize, split_sentences

#: How many evidence passages a verdict lists at most.
MAX_EVIDENCE = 8


@dataclass
class PassageView:
    """A passage with the normalised text the patterns run on."""

    passage: Passage
    text: str
    codes: frozenset[str]
    heading: str = ""  # the nearest heading above the passage, normalised

    @property
    def n(self) -> int:
        return self.passage.n


@dataclass
class Finding:
    """The outcome of one requirement with what the report needs besides the Verdict."""

    verdict: Verdict
    found: list[str] = field(default_factory=list)  # element ids found
    missing: list[str] = field(default_factory=list)  # element labels missing (nl)
    wrong: list[dict[str, Any]] = field(default_factory=list)  # {rule, passage, quote, note}


def passage_text(p: Passage) -> str:
    if p.cells:
        return " | ".join(p.cells)
    return p.text


def view_document(doc: Document) -> list[PassageView]:
    return [PassageView(p, normalize(passage_text(p)), frozenset(p.codes),
                        normalize(p.heading_path[-1]) if p.heading_path else "")
            for p in doc.passages]


def fill_placeholders(pattern: str, values: dict[str, Any]) -> str:
    """Replace ``<<name>>`` with a regional setting (a list becomes alternatives)."""
    def repl(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            return match.group(0)
        if isinstance(value, (list, tuple)):
            return "(?:" + "|".join(re.escape(str(v)) for v in value) + ")"
        return re.escape(str(value))
    return re.sub(r"<<(\w+)>>", repl, pattern)


@lru_cache(maxsize=8192)
def _compile_filled(pattern: str, regional: tuple) -> re.Pattern[str]:
    return re.compile(fill_placeholders(pattern, dict(regional)))


@lru_cache(maxsize=4096)
def _compile_any(patterns: tuple[str, ...], regional: tuple) -> re.Pattern[str]:
    values = dict(regional)
    return re.compile("|".join(f"(?:{fill_placeholders(p, values)})" for p in patterns))


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class Matcher:
    """Regex matching with the regional settings filled in (compiled once)."""

    def __init__(self, regional: dict[str, Any] | None = None):
        self.regional = tuple(sorted((k, _freeze(v)) for k, v in (regional or {}).items()))

    def search(self, pattern: str, text: str) -> re.Match[str] | None:
        return _compile_filled(pattern, self.regional).search(text)

    def any(self, patterns: Iterable[str], text: str) -> bool:
        # One alternation instead of a loop: far fewer calls on long documents.
        patterns = tuple(patterns)
        if not patterns:
            return False
        return _compile_any(patterns, self.regional).search(text) is not None

    def all(self, patterns: Iterable[str], text: str) -> bool:
        return all(self.search(p, text) for p in patterns)


LIST_KINDS = ("li", "ol", "tr")


def in_scope(req: Requirement, pv: PassageView, m: Matcher, previous_in_scope: bool = False,
             previous: PassageView | None = None) -> bool:
    """Whether a passage is about the requirement.

    ``require`` may be met by the passage, by its heading ("Vakantieverlof" above a
    list of conditions) or by the lead-in it continues: a list item right after an
    in-scope passage that ends with a colon or is itself a list item.
    """
    check = req.check
    hit = bool(pv.codes & set(check.scope_codes)) or m.any(check.scope_patterns, pv.text)
    if not hit or m.any(check.scope_exclude, pv.text):
        return False
    if check.scope_also and not m.any(check.scope_also, pv.text):
        return False
    if not check.scope_require or m.any(check.scope_require, pv.text):
        return True
    if pv.heading and m.any(check.scope_require, pv.heading):
        return True
    return bool(previous_in_scope and previous is not None and pv.passage.kind in LIST_KINDS
                and (previous.passage.kind in LIST_KINDS or previous.text.rstrip().endswith(":")))


def scope_of(req: Requirement, views: list[PassageView], m: Matcher) -> list[PassageView]:
    scope: list[PassageView] = []
    previous: PassageView | None = None
    previous_in = False
    for pv in views:
        previous_in = in_scope(req, pv, m, previous_in, previous)
        if previous_in:
            scope.append(pv)
        previous = pv
    return scope


def element_matches(el: Element, pv: PassageView, m: Matcher) -> bool:
    if el.codes_or and pv.codes & set(el.codes_or):
        return True
    if el.codes_or and not (el.any or el.all):
        return False
    if el.codes and not pv.codes & set(el.codes):
        return False
    if el.any and not m.any(el.any, pv.text):
        return False
    if el.same_sentence and el.all:
        return any(m.all(el.all, sentence) for _, sentence in split_sentences(pv.text))
    return m.all(el.all, pv.text)


def find_wrong(rule: WrongRule, scope: list[PassageView], m: Matcher) -> dict[str, Any] | None:
    """The first sentence in scope that states the rule wrongly, or None."""
    for pv in scope:
        if rule.context and not m.all(rule.context, pv.text):
            continue
        for _, sentence in split_sentences(pv.text):
            if not m.all(rule.sentence, sentence) or m.any(rule.unless, sentence):
                continue
            if rule.pattern:
                hit = m.search(rule.pattern, sentence)
                if hit:
                    return _wrong_hit(rule, pv, sentence, hit.group(0))
                continue
            for fact in extract_facts(sentence):
                if fact.unit == rule.unit and fact.value not in rule.allowed:
                    return _wrong_hit(rule, pv, sentence, fact.text)
    return None


def _wrong_hit(rule: WrongRule, pv: PassageView, sentence: str, value: str) -> dict[str, Any]:
    return {"rule": rule.id, "passage": pv.n, "page": pv.passage.page,
            "quote": quote_of(pv.passage, sentence), "value": value, "note": rule.note_nl}


def quote_of(p: Passage, normalized_sentence: str, limit: int = 300) -> str:
    """The original wording of a normalised sentence of the passage."""
    text = passage_text(p)
    # Split the original with the same splitter: normalising keeps sentence
    # boundaries, so the sentence whose normalised form matches is the one.
    for _, sentence in split_sentences(text):
        if normalize(sentence).strip() == normalized_sentence.strip():
            return _shorten(sentence, limit)
    for _, sentence in split_sentences(text):
        if normalized_sentence[:40] in normalize(sentence):
            return _shorten(sentence, limit)
    return _shorten(text, limit)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def check_requirement(req: Requirement, views: list[PassageView], covers: list[str],
                      regional: dict[str, Any] | None = None) -> Finding:
    """Decide one requirement for a document (given as passage views)."""
    if not req.applies_to(covers):
        note = f"niet van toepassing voor {', '.join(covers)}"
        return Finding(Verdict(req.id, "nvt", [], note))
    m = Matcher(regional)
    scope = scope_of(req, views, m)
    found: list[str] = []
    missing: list[str] = []
    evidence: list[int] = []
    for el in req.check.elements:
        pool = scope if el.where == "scope" else views
        hits = [pv.n for pv in pool if element_matches(el, pv, m)]
        if hits:
            found.append(el.id)
            evidence.extend(hits[:3])
        else:
            missing.append(el.label_nl)
    wrong = [w for w in (find_wrong(r, scope, m) for r in req.check.wrong) if w]
    if wrong:
        ev = _evidence([w["passage"] for w in wrong] + evidence)
        note = "; ".join(dict.fromkeys(w["note"] for w in wrong))
        return Finding(Verdict(req.id, "onjuist", ev, note), found, missing, wrong)
    if not scope:
        return Finding(Verdict(req.id, "ontbreekt", [], ""), found, missing)
    if req.check.deels and len(found) < req.check.deels:
        return Finding(Verdict(req.id, "ontbreekt", [], ""), found, missing)
    needed = len(req.check.elements) if req.check.voldaan is None else req.check.voldaan
    evidence = _evidence(evidence or [pv.n for pv in scope])
    sufficient = any(el.sufficient and el.id in found for el in req.check.elements)
    if len(found) >= needed or sufficient:
        return Finding(Verdict(req.id, "voldaan", evidence, ""), found, missing)
    note = "ontbreekt: " + "; ".join(missing)
    return Finding(Verdict(req.id, "deels", evidence, note), found, missing)


def _evidence(numbers: list[int]) -> list[int]:
    return sorted(dict.fromkeys(numbers))[:MAX_EVIDENCE]


def check_document(doc: Document, catalogue: Catalogue, covers: list[str],
                   regional: dict[str, Any] | None = None) -> list[Finding]:
    """Findings for every requirement of the catalogue, in catalogue order."""
    views = view_document(doc)
    return [check_requirement(req, views, covers, regional) for req in catalogue.requirements]
