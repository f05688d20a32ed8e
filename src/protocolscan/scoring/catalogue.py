"""The requirements catalogue (YAML data) and the scoring settings.

The catalogue is data so that a region can add or override requirements in its own
YAML file without touching code: ``load_catalogue(path, extensions=[...])`` merges
the extension files by requirement id (a full entry replaces, a partial entry
updates the fields it names). The loader validates everything and raises
``CatalogueError`` with a Dutch message naming the file and the requirement.
"""

from __future__ import annotations

import datetime as dt
import re
import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..model import ProtocolscanError

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DEFAULT_CATALOGUE = DATA_DIR / "requirements.yaml"
DEFAULT_SETTINGS = DATA_DIR / "settings.yaml"
DEFAULT_STUDY = DATA_DIR / "study_b23.yaml"

LAYERS = ("wet", "mas", "wts")
SECTORS = ("po", "so", "vso", "vo", "regio")
SCHOOL_SECTORS = ("po", "so", "vso", "vo")
VERDICTS = ("voldaan", "deels", "ontbreekt", "onjuist", "nvt")
REQUIRED_FIELDS = ("id", "title_nl", "layer", "sectors", "source", "covered_when",
                   "explanation_nl", "check")
TEXT_FIELDS = ("title_nl", "covered_when", "explanation_nl", "question_nl", "example_nl")


class CatalogueError(ProtocolscanError):
    """The requirements catalogue or an extension is not valid (Dutch message)."""


@dataclass
class Element:
    """One thing a protocol must say for a requirement (e.g. the 16-hour threshold)."""

    id: str
    label_nl: str
    any: list[str] = field(default_factory=list)
    all: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # AND: the passage needs one of these
    codes_or: list[str] = field(default_factory=list)  # OR: one of these codes suffices
    where: str = "scope"  # scope | document
    sufficient: bool = False  # found -> voldaan on its own (e.g. a named separate protocol)
    same_sentence: bool = False  # the `all` patterns must match within one sentence


@dataclass
class WrongRule:
    """A way of stating the rule wrongly: a sentence that matches ``sentence`` and
    holds a number with ``unit`` whose value is not in ``allowed``."""

    id: str
    note_nl: str
    sentence: list[str] = field(default_factory=list)  # all must match the sentence
    context: list[str] = field(default_factory=list)  # all must match the passage
    unless: list[str] = field(default_factory=list)  # none may match the sentence
    unit: str | None = None
    allowed: list[float] = field(default_factory=list)
    pattern: str | None = None  # alternative to a fact: a regex stating the wrong rule


@dataclass
class Check:
    scope_codes: list[str] = field(default_factory=list)
    scope_patterns: list[str] = field(default_factory=list)
    scope_require: list[str] = field(default_factory=list)
    scope_also: list[str] = field(default_factory=list)
    scope_exclude: list[str] = field(default_factory=list)
    elements: list[Element] = field(default_factory=list)
    voldaan: int | None = None  # elements needed for voldaan; None = all
    deels: int = 0  # elements needed for deels (0: any passage in scope)
    wrong: list[WrongRule] = field(default_factory=list)


@dataclass
class Requirement:
    id: str
    title_nl: str
    layer: str
    sectors: list[str]
    source: str
    covered_when: str
    explanation_nl: str
    check: Check
    weight: float | None = None  # None: the layer's weight from the settings
    link: str = ""
    question_nl: str = ""
    example_nl: str = ""
    study_code: str = ""  # the codebook code whose B2.3 figure is compared

    def applies_to(self, covers: Iterable[str]) -> bool:
        """A requirement applies when the protocol covers one of its sectors."""
        if "all" in self.sectors:
            return True
        return any(s in self.sectors for s in covers)


@dataclass
class Catalogue:
    version: str
    requirements: list[Requirement]
    sources: list[str] = field(default_factory=list)

    def get(self, requirement_id: str) -> Requirement:
        for req in self.requirements:
            if req.id == requirement_id:
                return req
        raise KeyError(requirement_id)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.requirements]


@dataclass
class Settings:
    """Scoring settings: layer weights, the WTS start date and regional thresholds."""

    layer_weights: dict[str, float]
    wts_weight_before: float
    wts_weight_from: float
    wts_in_force: dt.date
    verdict_points: dict[str, float]
    regional: dict[str, Any] = field(default_factory=dict)

    def weight(self, req: Requirement, peildatum: dt.date) -> float:
        """The weight of a requirement on the evaluation date."""
        if req.weight is not None:
            return float(req.weight)
        if req.layer == "wts":
            return self.wts_weight_from if peildatum >= self.wts_in_force else self.wts_weight_before
        return self.layer_weights[req.layer]


def _fail(where: str, message: str) -> None:
    raise CatalogueError(f"{where}: {message}")


# libyaml's loader is ~10x faster than the pure-Python one; same safe subset.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    try:
        return _cached_yaml(str(Path(path).resolve()), Path(path).stat().st_mtime_ns)
    except FileNotFoundError:
        raise CatalogueError(f"{path}: bestand niet gevonden") from None
    except yaml.YAMLError as err:
        raise CatalogueError(f"{path}: geen geldige YAML ({err})") from None


@lru_cache(maxsize=32)
def _cached_yaml(path: str, mtime_ns: int) -> Any:
    """Parsed YAML per file version (a changed file is read again)."""
    return _parse_yaml(Path(path))


def _parse_yaml(path: Path) -> Any:
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_SafeLoader)
    except FileNotFoundError:
        raise CatalogueError(f"{path}: bestand niet gevonden") from None
    except yaml.YAMLError as err:
        raise CatalogueError(f"{path}: geen geldige YAML ({err})") from None


def _check_regexes(where: str, patterns: list[str]) -> list[str]:
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list):
        _fail(where, "verwacht een lijst met zoekpatronen")
    for pattern in patterns:
        error = _regex_error(pattern)
        if error:
            _fail(where, f"ongeldig zoekpatroon {pattern!r} ({error})")
    return list(patterns)


@lru_cache(maxsize=8192)
def _regex_error(pattern: str) -> str:
    """Why a pattern does not compile ('' when it does); cached across loads."""
    try:
        re.compile(pattern)
    except re.error as err:
        return str(err)
    return ""


def _parse_check(where: str, raw: Any) -> Check:
    if not isinstance(raw, dict):
        _fail(where, "'check' moet een blok met velden zijn")
    known = {"scope", "elements", "voldaan", "deels", "wrong"}
    unknown = set(raw) - known
    if unknown:
        _fail(where, f"onbekende velden in 'check': {', '.join(sorted(unknown))}")
    scope = raw.get("scope") or {}
    check = Check(
        scope_codes=list(scope.get("codes", [])),
        scope_patterns=_check_regexes(f"{where} scope.patterns", scope.get("patterns", [])),
        scope_require=_check_regexes(f"{where} scope.require", scope.get("require", [])),
        scope_exclude=_check_regexes(f"{where} scope.exclude", scope.get("exclude", [])),
        scope_also=_check_regexes(f"{where} scope.also", scope.get("also", [])),
        voldaan=raw.get("voldaan"),
        deels=int(raw.get("deels", 0)),
    )
    if not check.scope_codes and not check.scope_patterns:
        _fail(where, "'check.scope' heeft codes of patterns nodig")
    for i, el in enumerate(raw.get("elements", []) or []):
        ew = f"{where} element {el.get('id', i + 1) if isinstance(el, dict) else i + 1}"
        if not isinstance(el, dict) or "id" not in el or "label_nl" not in el:
            _fail(ew, "een element heeft 'id' en 'label_nl' nodig")
        if el.get("where", "scope") not in ("scope", "document"):
            _fail(ew, "'where' is 'scope' of 'document'")
        if not (el.get("any") or el.get("all") or el.get("codes") or el.get("codes_or")):
            _fail(ew, "een element heeft 'any', 'all', 'codes' of 'codes_or' nodig")
        unknown_el = set(el) - {"id", "label_nl", "any", "all", "codes", "codes_or", "where", "sufficient",
                                "same_sentence"}
        if unknown_el:
            _fail(ew, f"onbekende velden: {', '.join(sorted(unknown_el))}")
        check.elements.append(Element(
            id=str(el["id"]), label_nl=str(el["label_nl"]),
            any=_check_regexes(ew, el.get("any", [])), all=_check_regexes(ew, el.get("all", [])),
            codes=list(el.get("codes", [])), codes_or=list(el.get("codes_or", [])),
            where=el.get("where", "scope"), sufficient=bool(el.get("sufficient", False)),
            same_sentence=bool(el.get("same_sentence", False))))
    n = len(check.elements)
    if check.voldaan is not None and not 0 <= int(check.voldaan) <= n:
        _fail(where, f"'voldaan' moet tussen 0 en {n} liggen")
    if not 0 <= check.deels <= n:
        _fail(where, f"'deels' moet tussen 0 en {n} liggen")
    for i, rule in enumerate(raw.get("wrong", []) or []):
        rw = f"{where} wrong {i + 1}"
        if not isinstance(rule, dict) or "note_nl" not in rule:
            _fail(rw, "een 'wrong'-regel heeft 'note_nl' nodig")
        if not rule.get("pattern") and not rule.get("unit"):
            _fail(rw, "een 'wrong'-regel heeft 'unit' (met 'allowed') of 'pattern' nodig")
        if rule.get("pattern"):
            _check_regexes(rw, [rule["pattern"]])
        check.wrong.append(WrongRule(
            id=str(rule.get("id", f"wrong{i + 1}")), note_nl=str(rule["note_nl"]),
            sentence=_check_regexes(rw, rule.get("sentence", [])),
            context=_check_regexes(rw, rule.get("context", [])),
            unless=_check_regexes(rw, rule.get("unless", [])),
            unit=rule.get("unit"), allowed=[float(v) for v in rule.get("allowed", [])],
            pattern=rule.get("pattern")))
    return check


def parse_requirement(raw: dict, where: str) -> Requirement:
    """Validate one catalogue entry and build the Requirement."""
    if not isinstance(raw, dict):
        _fail(where, "een eis moet een blok met velden zijn")
    rid = raw.get("id", "?")
    where = f"{where}, eis {rid}"
    missing = [f for f in REQUIRED_FIELDS if f not in raw]
    if missing:
        _fail(where, f"verplichte velden ontbreken: {', '.join(missing)}")
    if raw["layer"] not in LAYERS:
        _fail(where, f"laag {raw['layer']!r} onbekend (kies uit {', '.join(LAYERS)})")
    sectors = raw["sectors"]
    if isinstance(sectors, str):
        sectors = [sectors]
    bad = [s for s in sectors if s not in SECTORS + ("all",)]
    if bad:
        _fail(where, f"onbekende sector(en) {', '.join(bad)} (kies uit all, {', '.join(SECTORS)})")
    weight = raw.get("weight")
    if weight is not None and (not isinstance(weight, (int, float)) or weight < 0):
        _fail(where, "'weight' moet een getal van 0 of meer zijn")
    for f in TEXT_FIELDS:
        if f in raw and not isinstance(raw[f], str):
            _fail(where, f"'{f}' moet tekst zijn")
    return Requirement(
        id=str(rid), title_nl=raw["title_nl"].strip(), layer=raw["layer"], sectors=list(sectors),
        source=str(raw["source"]).strip(), covered_when=raw["covered_when"].strip(),
        explanation_nl=raw["explanation_nl"].strip(), check=_parse_check(where, raw["check"]),
        weight=weight, link=str(raw.get("link", "")), question_nl=raw.get("question_nl", "").strip(),
        example_nl=raw.get("example_nl", "").strip(), study_code=str(raw.get("study_code", "")))


def _merge_entries(base: list[dict], extension: list[dict], where: str) -> list[dict]:
    """Extension entries replace or update base entries by id; new ids are appended."""
    merged = {e["id"]: dict(e) for e in base}
    order = [e["id"] for e in base]
    for entry in extension:
        if not isinstance(entry, dict) or "id" not in entry:
            _fail(where, "elke eis in een uitbreiding heeft een 'id' nodig")
        rid = entry["id"]
        if entry.get("remove"):
            merged.pop(rid, None)
            order = [i for i in order if i != rid]
        elif rid in merged:
            merged[rid].update(entry)
        else:
            merged[rid] = dict(entry)
            order.append(rid)
    return [merged[i] for i in order]


def _entries_of(data: Any, path: Path) -> tuple[str | None, list[dict]]:
    if not isinstance(data, dict) or not isinstance(data.get("requirements"), list):
        _fail(str(path), "verwacht een YAML-blok met een lijst 'requirements'")
    return data.get("version"), data["requirements"]


def load_catalogue(path: str | Path | None = None,
                   extensions: Iterable[str | Path] = ()) -> Catalogue:
    """Load the catalogue (default: the packaged one) and merge extension files."""
    path = Path(path) if path else DEFAULT_CATALOGUE
    data = _read_yaml(path)
    if isinstance(data, dict) and data.get("extends"):
        # A region's file that says `extends: default` (or names a base file) is an
        # extension: `--requirements regio.yaml` then keeps the packaged catalogue.
        base = data["extends"]
        base_path = DEFAULT_CATALOGUE if base in (True, "default") else (path.parent / str(base))
        return load_catalogue(base_path, [path, *extensions])
    version, entries = _entries_of(copy.deepcopy(data), path)
    if not version:
        _fail(str(path), "het veld 'version' ontbreekt")
    sources = [str(path)]
    for ext in extensions:
        ext = Path(ext)
        ext_version, ext_entries = _entries_of(copy.deepcopy(_read_yaml(ext)), ext)
        entries = _merge_entries(entries, ext_entries, str(ext))
        version = f"{version}+{ext_version or ext.stem}"
        sources.append(str(ext))
    requirements = [parse_requirement(e, str(path)) for e in entries]
    seen: set[str] = set()
    for req in requirements:
        if req.id in seen:
            _fail(str(path), f"eis {req.id} staat er twee keer in")
        seen.add(req.id)
    return Catalogue(version=str(version), requirements=requirements, sources=sources)


def load_settings(path: str | Path | None = None) -> Settings:
    """Load the scoring settings (default: the packaged ``settings.yaml``)."""
    path = Path(path) if path else DEFAULT_SETTINGS
    data = _read_yaml(path)
    try:
        weights = data["layer_weights"]
        wts = data["wts"]
        in_force = wts["in_force"]
        if isinstance(in_force, str):
            in_force = dt.date.fromisoformat(in_force)
        return Settings(
            layer_weights={k: float(v) for k, v in weights.items()},
            wts_weight_before=float(wts["weight_before"]), wts_weight_from=float(wts["weight_from"]),
            wts_in_force=in_force, verdict_points={k: float(v) for k, v in data["verdict_points"].items()},
            regional=data.get("regional", {}))
    except (KeyError, TypeError, ValueError) as err:
        raise CatalogueError(f"{path}: instellingen onvolledig of ongeldig ({err})") from None


def load_study(path: str | Path | None = None) -> dict[str, Any]:
    """The reference figures of the study's table B2.3, keyed by codebook code."""
    path = Path(path) if path else DEFAULT_STUDY
    return copy.deepcopy(_read_yaml(path))
