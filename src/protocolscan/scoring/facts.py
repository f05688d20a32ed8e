"""Facts extracted from passage text: numbers with units, and the parties named.

Checkers do not trust passage codes alone: a legal verdict must not flip because a
tagger missed a code. So every checker also looks at what the text literally says.
Dutch protocols write numbers as digits or words ("zestien uur", "vier
(opeenvolgende) lesweken", "tien schooldagen"); ``normalize`` turns number words into
digits so that the catalogue's patterns can be written once, on digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

#: Dutch number words, longest first so that "zeventien" wins over "zeven".
NUMBER_WORDS = {
    "een": 1, "één": 1, "eén": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6,
    "zeven": 7, "acht": 8, "negen": 9, "tien": 10, "elf": 11, "twaalf": 12,
    "dertien": 13, "veertien": 14, "vijftien": 15, "zestien": 16, "zeventien": 17,
    "achttien": 18, "negentien": 19, "twintig": 20, "eenentwintig": 21,
    "tweeëntwintig": 22, "drieëntwintig": 23, "vierentwintig": 24, "dertig": 30,
    "veertig": 40, "vijftig": 50, "zestig": 60,
}
ORDINAL_WORDS = {
    "eerste": 1, "tweede": 2, "derde": 3, "vierde": 4, "vijfde": 5, "zesde": 6,
    "zevende": 7, "achtste": 8, "negende": 9, "tiende": 10, "elfde": 11,
    "twaalfde": 12,
}
# "een" is also the indefinite article: only read it as 1 before a unit word
# ("een week", "een keer"), never in running text ("een leerling").
_AMBIGUOUS = {"een"}

#: Unit words grouped into the canonical unit a checker asks for.
UNITS = {
    "uur": r"(?:les|klok)?uur|(?:les|klok)?uren",
    "dag": r"(?:school|les|werk|kalender)?dag(?:en|delen|deel)?",
    "week": r"(?:les|school)?we(?:e|)k(?:en)?",
    "maand": r"maand(?:en)?",
    "jaar": r"jaar|jaren",
    "keer": r"keer|maal|x",
    "ziekmelding": r"(?:ziek|verzuim)meldingen|(?:ziek|verzuim)melding",
}
_UNIT_RE = "|".join(f"(?P<{name}>{pattern})" for name, pattern in UNITS.items())

#: Parties and channels that checkers and reports refer to.
PARTIES = {
    "duo": r"\bduo\b|dienst uitvoering onderwijs",
    "verzuimloket": r"verzuimloket",
    "verzuimregister": r"verzuimregist(?:er|ratiesysteem)|basisregister",
    "leerplicht": r"leerplicht(?:ambtena(?:ar|ren)|consulent|zaken)?|\brbl\b|bureau leerplicht|consulent leerrecht",
    "jeugdarts": r"jeugdarts|schoolarts|jeugdverpleegkundige|\bjgz\b|jeugdgezondheidszorg",
    "rmc": r"\brmc\b|regionale? meld- en coördinatie",
    "samenwerkingsverband": r"samenwerkingsverband|\bswv\b|onderwijsconsulent",
    "inspectie": r"inspectie",
    "halt": r"\bhalt\b",
}


@dataclass(frozen=True)
class Fact:
    """A number with its unit as found in one passage."""

    value: float
    unit: str
    text: str  # the matched words, normalised ("16 uur")
    sentence: str  # the normalised sentence it occurs in
    start: int  # offset in the normalised passage text


def _number_word_pattern() -> re.Pattern[str]:
    words = sorted(list(NUMBER_WORDS) + list(ORDINAL_WORDS), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b")


_NUMBER_WORD_RE = _number_word_pattern()
_UNIT_AFTER_RE = re.compile(r"\s*(?:\([^)]{0,30}\)\s*)?(?:[a-zë]+\s+){0,1}(?:" + _UNIT_RE + r")\b")


def _replace_number_word(match: re.Match[str]) -> str:
    word = match.group(1)
    if word in ORDINAL_WORDS:
        return f"{ORDINAL_WORDS[word]}e"
    if word in _AMBIGUOUS:
        rest = match.string[match.end():]
        if not re.match(r"\s*(?:" + _UNIT_RE + r")\b", rest):
            return word
    return str(NUMBER_WORDS[word])


@lru_cache(maxsize=20000)
def normalize(text: str) -> str:
    """Lower-case text with number words as digits and uniform spaces and quotes."""
    text = text.lower().replace("\u00a0", " ").replace("’", "'").replace("‘", "'")
    text = re.sub(r"[ \t]+", " ", text)
    text = _NUMBER_WORD_RE.sub(_replace_number_word, text)
    # "16-uursgrens", "16-urengrens" -> "16 uur grens"
    text = re.sub(r"(\d+)\s*-?\s*(uurs|uren)(?=[a-z])", r"\1 uur ", text)
    return text


def split_sentences(text: str) -> list[tuple[int, str]]:
    """Sentences with their start offset. A table row (cells joined with ``|``) stays
    one sentence: its cells only make sense together."""
    out = []
    # A full stop between digits ("8.30 uur") or after an abbreviation does not end a sentence.
    for match in re.finditer(r"(?:[^.!?;]|\.(?=\d)|(?<=\b[a-z])\.|(?<=\bo\.a)\.|(?<=\bbijv)\.)+(?:[.!?;]+|$)", text):
        sentence = match.group(0).strip()
        if sentence:
            out.append((match.start(), sentence))
    return out


_FACT_RE = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)?)(?P<ord>e)?\s*(?:\([^)]{0,30}\)\s*)?"
    r"(?:(?:opeenvolgende|aaneengesloten|aaneensluitende|achtereenvolgende|hele|volle|"
    r"ongeoorloofde|geoorloofde|lesuren|school|les)\s+)?(?:" + _UNIT_RE + r")\b"
)


@lru_cache(maxsize=20000)
def extract_facts(text: str) -> tuple[Fact, ...]:
    """All numbers with a unit in ``text`` (any casing; number words are read)."""
    norm = normalize(text)
    facts = []
    for start, sentence in split_sentences(norm):
        for m in _FACT_RE.finditer(sentence):
            unit = next(name for name in UNITS if m.group(name))
            value = float(m.group("num").replace(",", "."))
            facts.append(Fact(value=value, unit=unit, text=m.group(0), sentence=sentence,
                              start=start + m.start()))
    return tuple(facts)


@lru_cache(maxsize=20000)
def parties_in(text: str) -> frozenset[str]:
    """The parties and channels named in ``text``."""
    norm = normalize(text)
    return frozenset(name for name, pattern in PARTIES.items() if re.search(pattern, norm))
