"""Rule patterns per code, as data (``rules.yaml``), applied with spaCy.

A pattern is one of:

``phrase``  list of phrases matched on lower-cased tokens (spaCy ``PhraseMatcher``, LOWER)
``lemma``   list of phrases matched on lemmas (``PhraseMatcher``, LEMMA), so that
            "meldt", "melden" and "meldde" all match "melden"
``tokens``  a spaCy ``Matcher`` token pattern (list of token dicts)
``word``    a regular expression that must match a whole lower-cased token; the
            way to catch Dutch compounds ("verlofaanvraag", "leerplichtambtenaren").
            Checked once per distinct word and cached, so it costs nearly nothing
``regex``   a Python regular expression on the passage text (case-insensitive); slow
            (every passage is scanned), so only for what tokens cannot express
``all``     a list of other pattern ids that must all hit the same passage text
            ("luxe verzuim" and a word for reporting): a cheap co-occurrence rule
``heading`` a regular expression on the passage's headings: a list item under
            "Luxe verzuim" is about luxe verzuim even if it does not say so

Every hit is kept as evidence: the pattern id, the matched text and its character
offsets in the passage text (or in the heading, for heading cues).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..model import Passage
from .codebook import DATA_DIR, Codebook, CodebookError, read_yaml_mapping

DEFAULT_RULES = DATA_DIR / "rules.yaml"

PATTERN_KINDS = ("phrase", "lemma", "tokens", "word", "regex", "heading", "all")
PATTERN_KEYS = set(PATTERN_KINDS) | {"id", "source", "comment", "part"}
RULES_TOP_KEYS = {"version", "codebook", "lemmas", "codes"}
#: How many of the nearest headings count as context.
HEADING_DEPTH = 2


@dataclass(frozen=True)
class Pattern:
    id: str
    code: str
    kind: str
    value: Any  # list of phrases, a token pattern or a regex string
    source: str = ""
    part: bool = False  # only a building block of an ``all`` pattern, no hit of its own


@dataclass
class RuleSet:
    version: str
    codebook_version: str
    patterns: list[Pattern]
    lemmas: dict[str, str] = field(default_factory=dict)  # additions to the lookup table
    text: str = ""  # the YAML source, stored in the model so it tags with its own rules

    @property
    def codes(self) -> list[str]:
        return sorted({p.code for p in self.patterns})

    def to_mapping(self) -> dict[str, Any]:
        """The rules as the YAML structure they were read from (JSON-ready)."""
        codes: dict[str, list[dict]] = {}
        for p in self.patterns:
            entry: dict[str, Any] = {"id": p.id, p.kind: p.value, "source": p.source}
            if p.part:
                entry["part"] = True
            codes.setdefault(p.code, []).append(entry)
        return {"version": self.version, "codebook": self.codebook_version, "lemmas": self.lemmas,
                "codes": codes}


@dataclass(slots=True)
class RuleHit:
    code: str
    pattern: str
    text: str
    start: int
    end: int
    field: str = "text"  # "text" or "heading"

    def evidence(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "text": self.text, "start": self.start,
                "end": self.end, "field": self.field}


def load_rules(path: str | Path | None = None, codebook: Codebook | None = None) -> RuleSet:
    """Read and validate a rules YAML file (the default one when ``path`` is None)."""
    path = Path(path) if path is not None else DEFAULT_RULES
    data = read_yaml_mapping(path, "regel")
    text = path.read_text(encoding="utf-8")
    return rules_from_mapping(data, path, codebook, text)


def rules_from_text(text: str, codebook: Codebook | None = None, path: str = "<regels>") -> RuleSet:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return rules_from_mapping(yaml.load(text, Loader=loader), path, codebook, text)


def rules_from_mapping(data: dict, path: str | Path, codebook: Codebook | None, text: str = "",
                       validate: bool = True) -> RuleSet:
    """Rules from parsed YAML. ``validate=False`` skips compiling the regexes, for rules
    that a trained model stores (they were validated when it was trained)."""
    unknown = set(data) - RULES_TOP_KEYS
    if unknown:
        raise CodebookError(path, f"onbekende sleutel(s) bovenaan: {', '.join(sorted(unknown))}")
    known_codes = set(codebook.ids) if codebook is not None else None
    patterns: list[Pattern] = []
    seen: set[str] = set()
    for code, entries in (data.get("codes") or {}).items():
        if known_codes is not None and code not in known_codes:
            raise CodebookError(path, f"regels voor onbekende code '{code}'")
        for i, entry in enumerate(entries or []):
            pattern = pattern_from_entry(entry, code, i, path, validate)
            if pattern.id in seen:
                raise CodebookError(path, f"patroon-id '{pattern.id}' komt meer dan eens voor")
            seen.add(pattern.id)
            patterns.append(pattern)
    for p in patterns:
        if p.kind == "all":
            missing = [pid for pid in p.value if pid not in seen]
            if missing:
                raise CodebookError(path, f"patroon '{p.id}' verwijst naar onbekend(e) patroon(en) {', '.join(missing)}")
    lemmas = {str(k): str(v) for k, v in (data.get("lemmas") or {}).items()}
    return RuleSet(version=str(data.get("version", "")), codebook_version=str(data.get("codebook", "")),
                   patterns=patterns, lemmas=lemmas, text=text)


def pattern_from_entry(entry: Any, code: str, index: int, path: str | Path, validate: bool = True) -> Pattern:
    where = f"{code}, patroon {index + 1}"
    if not isinstance(entry, dict):
        raise CodebookError(path, f"{where}: moet een mapping zijn")
    unknown = set(entry) - PATTERN_KEYS
    if unknown:
        raise CodebookError(path, f"{where}: onbekende sleutel(s) {', '.join(sorted(unknown))}")
    kinds = [k for k in PATTERN_KINDS if k in entry]
    if len(kinds) != 1:
        raise CodebookError(path, f"{where}: precies één van {', '.join(PATTERN_KINDS)} nodig")
    kind = kinds[0]
    value = entry[kind]
    if kind in ("phrase", "lemma") and isinstance(value, str):
        value = [value]
    if validate and kind in ("word", "regex", "heading"):
        try:
            re.compile(value)
        except (re.error, TypeError) as err:
            raise CodebookError(path, f"{where}: ongeldige reguliere expressie ({err})") from None
    if kind == "all" and not (isinstance(value, list) and len(value) >= 2):
        raise CodebookError(path, f"{where}: 'all' moet een lijst van minstens twee patroon-id's zijn")
    if kind == "tokens" and not (isinstance(value, list) and all(isinstance(t, dict) for t in value)):
        raise CodebookError(path, f"{where}: 'tokens' moet een lijst van token-mappings zijn")
    pattern_id = str(entry.get("id") or f"{code}.{kind}{index + 1}")
    return Pattern(id=pattern_id, code=code, kind=kind, value=value, source=str(entry.get("source", "")),
                   part=bool(entry.get("part", False)))


def pattern_lemmas(ruleset: RuleSet, nlp) -> set[str]:
    """Every lemma that a lemma phrase or token pattern asks for."""
    wanted: set[str] = set()
    for p in ruleset.patterns:
        if p.kind == "lemma":
            for doc in nlp.pipe([v.lower() for v in p.value]):
                wanted.update(t.lemma_ for t in doc)
        elif p.kind == "tokens":
            for token in p.value:
                wanted.update(lemma_values(token))
    return wanted


def lemma_values(token_spec: Mapping[str, Any]) -> list[str]:
    value = token_spec.get("LEMMA")
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [v for v in value.get("IN", []) if isinstance(v, str)]
    return []


def build_lemma_table(ruleset: RuleSet) -> dict[str, str]:
    """The reduced lookup table for ``ruleset`` (see ``nlp.reduced_lemma_table``)."""
    from .nlp import full_lemma_table, make_nlp, reduced_lemma_table

    table = full_lemma_table(ruleset.lemmas)
    nlp = make_nlp(table)
    return reduced_lemma_table(table, pattern_lemmas(ruleset, nlp))


class RuleMatcher:
    """Applies a rule set to passages; ``match`` returns the hits per passage."""

    def __init__(self, ruleset: RuleSet, lemma_table: Mapping[str, str] | None = None):
        from spacy.matcher import Matcher, PhraseMatcher

        from .nlp import make_nlp

        self.ruleset = ruleset
        self.lemma_table = dict(lemma_table) if lemma_table is not None else build_lemma_table(ruleset)
        self.nlp = make_nlp(self.lemma_table)
        vocab = self.nlp.vocab
        self.lower_matcher = PhraseMatcher(vocab, attr="LOWER")
        self.lemma_matcher = PhraseMatcher(vocab, attr="LEMMA")
        self.token_matcher = Matcher(vocab)
        self.regexes: list[tuple[Pattern, re.Pattern]] = []
        self.word_patterns: list[tuple[Pattern, re.Pattern]] = []
        self.word_cache: dict[int, tuple[Pattern, ...]] = {}  # by LOWER hash
        self.heading_regexes: list[tuple[Pattern, re.Pattern]] = []
        self.by_id = {p.id: p for p in ruleset.patterns}
        self.combinations = [p for p in ruleset.patterns if p.kind == "all"]
        self.has_parts = any(p.part for p in ruleset.patterns)
        for p in ruleset.patterns:
            if p.kind == "phrase":
                self.lower_matcher.add(p.id, list(self.nlp.tokenizer.pipe([v.lower() for v in p.value])))
            elif p.kind == "lemma":
                self.lemma_matcher.add(p.id, list(self.nlp.pipe([v.lower() for v in p.value])))
            elif p.kind == "tokens":
                self.token_matcher.add(p.id, [p.value])
            elif p.kind == "word":
                self.word_patterns.append((p, re.compile(p.value)))
            elif p.kind == "regex":
                self.regexes.append((p, re.compile(p.value, re.IGNORECASE)))
            elif p.kind == "heading":
                self.heading_regexes.append((p, re.compile(p.value, re.IGNORECASE)))
        self.codes = ruleset.codes

    def docs(self, texts: Iterable[str]):
        """spaCy Docs of ``texts`` (tokens and lemmas), for ``match_doc``."""
        return self.nlp.pipe(texts, batch_size=256)

    def match_texts(self, texts: Iterable[str]) -> list[list[RuleHit]]:
        """Hits of the text patterns per text."""
        return [self.match_doc(doc) for doc in self.docs(texts)]

    def match_doc(self, doc, text: str | None = None) -> list[RuleHit]:
        """Hits of the text patterns (phrase, lemma, tokens, word, regex, all) in a Doc.

        ``text`` is the Doc's text when the caller has it: ``Doc.text`` rebuilds it
        token by token."""
        vocab_strings = self.nlp.vocab.strings
        hits: list[RuleHit] = []
        spans = self.lower_matcher(doc) + self.lemma_matcher(doc)
        if len(self.token_matcher):
            spans += self.token_matcher(doc)
        if text is None:
            text = doc.text
        for match_id, start, end in spans:
            pattern = self.by_id[vocab_strings[match_id]]
            span = doc[start:end]
            start_char, end_char = span.start_char, span.end_char
            hits.append(RuleHit(pattern.code, pattern.id, text[start_char:end_char], start_char, end_char))
        if self.word_patterns:
            hits.extend(self.match_words(doc, text))
        for pattern, regex in self.regexes:
            m = regex.search(text)
            if m:
                hits.append(RuleHit(pattern.code, pattern.id, m.group(0), m.start(), m.end()))
        if self.combinations and hits:
            hits.extend(self.match_combinations(hits))
        if self.has_parts:
            hits = [h for h in hits if not self.by_id[h.pattern].part]
        return hits

    def match_words(self, doc, text: str) -> list[RuleHit]:
        # Work on the arrays, not Token objects: creating Tokens is the slow part.
        hits = []
        cache = self.word_cache
        strings = self.nlp.vocab.strings
        array = doc.to_array(["LOWER", "IDX", "LENGTH"]).tolist()
        for lower, idx, length in array:
            found = cache.get(lower)
            if found is None:
                word = strings[lower]
                found = tuple(p for p, rx in self.word_patterns if rx.fullmatch(word))
                cache[lower] = found
            for pattern in found:
                hits.append(RuleHit(pattern.code, pattern.id, text[idx:idx + length], idx, idx + length))
        return hits

    def match_combinations(self, hits: list[RuleHit]) -> list[RuleHit]:
        first_hit: dict[str, RuleHit] = {}
        for h in hits:
            first_hit.setdefault(h.pattern, h)
        out = []
        for pattern in self.combinations:
            parts = [first_hit.get(pid) for pid in pattern.value]
            if all(parts):
                start, end = min(h.start for h in parts), max(h.end for h in parts)
                text = " … ".join(h.text for h in parts)
                out.append(RuleHit(pattern.code, pattern.id, text, start, end))
        return out

    def match_headings(self, heading_path: list[str]) -> list[RuleHit]:
        hits = []
        for heading in heading_path[-HEADING_DEPTH:]:
            for pattern, regex in self.heading_regexes:
                m = regex.search(heading)
                if m:
                    hits.append(RuleHit(pattern.code, pattern.id, m.group(0), m.start(), m.end(), "heading"))
        return hits

    def match(self, passages: list[Passage], docs=None) -> list[list[RuleHit]]:
        """Text and heading hits per passage. Headings themselves get no hits: they
        are context, the codebook never codes a bare heading."""
        if docs is None:
            docs = self.docs(p.text for p in passages)
        text_hits = [self.match_doc(doc, p.text) for doc, p in zip(docs, passages)]
        out = []
        heading_cache: dict[tuple[str, ...], list[RuleHit]] = {}
        for p, hits in zip(passages, text_hits):
            if p.is_heading:
                out.append([])
                continue
            key = tuple(p.heading_path[-HEADING_DEPTH:])
            if key not in heading_cache:
                heading_cache[key] = self.match_headings(list(key))
            out.append(hits + heading_cache[key])
        return out
