"""Which sector(s) a protocol is for, and whether it is a school's or a region's.

A school protocol has one sector (po, so, vso or vo); a regional protocol (regio)
covers the sectors it names. Requirements such as W10 (five-year-olds, po/so) and W14
(RMC, vo/vso) are ``nvt`` for sectors they do not apply to. The signals are weighted
word counts, with the title and headings counting extra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import Document, ProtocolscanError
from .facts import normalize

SECTOR_SIGNALS = {
    "po": [r"\bbasisschool", r"\bbasisonderwijs", r"primair onderwijs", r"\bpo\b",
           r"\bgroep [1-8]\b", r"\bgroep(?:en)? [1-8]\s*(?:t/m|tot en met|-)\s*[1-8]",
           r"\bkleuters?\b", r"\b(?:ikc|kindcentrum|obs|cbs|sbo)\b", r"leerkracht",
           r"intern begeleider|\bib'?er\b", r"\b5-jarige|\b5 jaar\b|vijfjarige",
           r"speciaal basisonderwijs"],
    "so": [r"(?<!voortgezet )speciaal onderwijs", r"\bso\b", r"\bso-school", r"cluster [1-4]"],
    "vso": [r"voortgezet speciaal onderwijs", r"\bvso\b"],
    "vo": [r"voortgezet onderwijs", r"\bvo\b", r"\b(?:vmbo|havo|vwo|mavo|gymnasium|lyceum|"
           r"praktijkonderwijs|scholengemeenschap|atheneum)\b", r"\bcollege\b", r"\bmentor",
           r"\bleerjaar\b", r"\bklas(?:sen)? [1-6]\b", r"\bteamleider", r"\bafdelingsleider",
           r"\bdocent", r"\brmc\b", r"startkwalificatie", r"\blesuur|\blesuren"],
}
REGIONAL_SIGNALS = [
    r"\bregionaal\b|\bregionale\b", r"\bregio\b", r"\bconvenant\b", r"alle scholen",
    r"deelnemende scholen", r"\bde scholen\b", r"bureau leerplicht|\brbl\b",
    r"samenwerkingsverband passend", r"\bgemeenten\b",
    r"scholen in (?:de|onze) (?:regio|gemeente)",
]
SCHOOL_SIGNALS = [r"\bonze school\b", r"\bop school\b", r"\bde directeur\b", r"\bons kind",
                  r"\buw kind\b", r"\bjouw mentor\b", r"\bje mentor\b", r"\bbij ons\b"]
#: Who wrote the document, read from the title: an institution or a regional body.
TITLE_REGIONAL = r"\bregionaal|\bregionale|\bregio\b|\bgemeente\b|\bggd\b|samenwerkingsverband|bureau leerplicht|\bconvenant\b|\brbl\b"
TITLE_SCHOOL = (r"school\b|basisschool|\bcollege\b|lyceum|gymnasium|\bikc\b|kindcentrum|\bobs\b|\bcbs\b|"
                r"\bsbo\b|\bv?so\b|scholengemeenschap|\bsg\b|\bcsg\b|\bosg\b|stichting|schoolgids|praktijkcollege|vakcollege")
#: Explicit names of a sector, used for what a regional protocol covers and for the
#: sector a title names.
SECTOR_NAMES = {
    "po": r"primair onderwijs|basisonderwijs|basisscholen|basisschool|\bpo\b|\bsbo\b|\bikc\b|kindcentrum|\bobs\b|\bcbs\b",
    "so": r"(?<!voortgezet )speciaal onderwijs|\bso\b|\(v\)so|\bso/vso\b",
    "vso": r"voortgezet speciaal onderwijs|\bvso\b|\(v\)so",
    "vo": r"voortgezet onderwijs|\bvo\b|\bvmbo|\bhavo|\bvwo|\bmavo|lyceum|gymnasium|\bcollege\b|praktijkonderwijs|scholengemeenschap",
}
# A regional text that names sectors fewer times than this is taken to cover all.
REGIONAL_MIN_MENTIONS = 3
# A sector counts for a regional protocol when it reaches this share of the most named.
REGIONAL_SECTOR_SHARE = 0.2
ALL_SECTORS = ["po", "so", "vso", "vo"]


@dataclass
class SectorInfo:
    sector: str  # po | so | vso | vo | regio
    covers: list[str]  # school sectors the protocol applies to
    level: str  # school | regionaal
    scores: dict[str, float] = field(default_factory=dict)
    source: str = "tekst"  # tekst | opgegeven


def _count(patterns: list[str], text: str) -> int:
    return sum(len(re.findall(p, text)) for p in patterns)


def _texts(doc: Document) -> tuple[str, str, str]:
    """(title, title and headings, whole text), normalised."""
    headings = [p.text for p in doc.passages if p.is_heading]
    title = doc.title or (headings[0] if headings else "")
    body = doc.text or "\n".join(p.text for p in doc.passages)
    return normalize(title), normalize("\n".join([title] + headings)), normalize(body)


def sector_scores(doc: Document) -> dict[str, float]:
    """Vocabulary evidence per sector; headings count five times."""
    _, heads, body = _texts(doc)
    return {s: float(_count(pats, body) + 5 * _count(pats, heads)) for s, pats in SECTOR_SIGNALS.items()}


def detect_level(doc: Document) -> str:
    """``regionaal`` or ``school``: the title decides when it names the author."""
    title, heads, body = _texts(doc)
    if re.search(TITLE_REGIONAL, title):
        return "regionaal"
    if re.search(TITLE_SCHOOL, title):
        return "school"
    regional = _count(REGIONAL_SIGNALS, body) + 4 * _count(REGIONAL_SIGNALS, heads)
    school = _count(SCHOOL_SIGNALS, body)
    return "regionaal" if regional > max(5, 3 * school) else "school"


def _title_sectors(title: str) -> list[str]:
    return [s for s in ("vso", "so", "vo", "po") if re.search(SECTOR_NAMES[s], title)]


def detect_sector(doc: Document, override: str | None = None) -> SectorInfo:
    """Detect sector, covered sectors and level. ``override`` wins over the text:
    ``po``/``so``/``vso``/``vo`` (or a list such as ``so,vso`` for a school with two
    sectors), ``regio`` (a regional protocol; sectors from the text) or ``regio,po,vo``.
    An unknown value raises ProtocolscanError with a Dutch message."""
    scores = sector_scores(doc)
    level = detect_level(doc)
    if override:
        parts = [s.strip().lower() for s in override.split(",") if s.strip()]
        bad = [s for s in parts if s not in ALL_SECTORS + ["regio"]]
        if bad or not parts:
            raise ProtocolscanError(f"onbekende sector {', '.join(bad) or override!r} (kies uit po, so, vso, vo, regio)")
        if "regio" in parts:
            # "regio" alone: the sectors the text names; "regio,po,vo": those.
            named = [s for s in parts if s != "regio"] or _regional_covers(doc)
            return SectorInfo("regio", named, "regionaal", scores, "opgegeven")
        # One school sector, or several for a school that has them ("so,vso").
        return SectorInfo(parts[0], parts, "school" if level == "school" else level, scores, "opgegeven")
    if level == "regionaal":
        return SectorInfo("regio", _regional_covers(doc), level, scores)
    title = _texts(doc)[0]
    named = _title_sectors(title)
    if named:
        # "SO/VSO De Lichtboei" is an so school that also covers vso.
        first = "so" if "so" in named else named[0]
        return SectorInfo(first, sorted(named, key=ALL_SECTORS.index), level, scores)
    if scores["vso"] >= 3:
        best = "vso"
    elif scores["so"] >= 0.4 * scores["po"] and scores["so"] >= 3:
        best = "so"
    else:
        best = max(scores, key=lambda s: scores[s]) if any(scores.values()) else "po"
    return SectorInfo(best, [best], level, scores)


def _regional_covers(doc: Document) -> list[str]:
    """The sectors a regional text names explicitly (all four when it names none)."""
    _, heads, body = _texts(doc)
    counts = {s: len(re.findall(p, body)) + 5 * len(re.findall(p, heads)) for s, p in SECTOR_NAMES.items()}
    if sum(counts.values()) < REGIONAL_MIN_MENTIONS:
        return list(ALL_SECTORS)
    top = max(counts.values())
    return [s for s in ALL_SECTORS if counts[s] > 0 and counts[s] >= REGIONAL_SECTOR_SHARE * top]
