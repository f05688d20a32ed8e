"""The spaCy pipeline of the rules: a blank Dutch tokenizer plus a lookup lemmatizer.

Two deliberate choices, both for the cold start of ``protocolscan tag``:

* spaCy's Dutch tokenizer ships ~4,500 special cases, almost all abbreviations of
  legal and academic Dutch in three casings ("A.h.v.", "Rechtsh."). Loading them costs
  about a second on a slow core and they never touch our patterns (a pattern never
  spans an abbreviation's period). We keep the language-independent exceptions and
  the everyday abbreviations that occur in school texts.
* The lemma table of ``spacy-lookups-data`` has 213,000 forms and takes half a
  second to load. Only lemmas that a pattern asks for matter for matching, so
  ``reduced_lemma_table`` keeps the forms whose lemma (or whose own text) is a
  pattern lemma; the trained model stores that table. Matching with it gives the
  same hits as with the full table.

The lookup table is case-sensitive, so the table also maps capitalised and upper
case forms: "Ouders" at the start of a sentence must match like "ouders".
"""

from __future__ import annotations

from typing import Iterable, Mapping

#: Abbreviations common in Dutch school texts, kept as tokenizer special cases.
EVERYDAY_ABBREVIATIONS = {
    "bijv.", "bv.", "o.a.", "e.d.", "enz.", "etc.", "i.p.v.", "m.b.t.", "t.a.v.", "z.s.m.",
    "t.z.t.", "d.w.z.", "i.v.m.", "m.u.v.", "n.a.v.", "o.b.v.", "t.o.v.", "v.d.", "mevr.",
    "dhr.", "nr.", "tel.", "zgn.", "evt.", "resp.", "incl.", "excl.", "ca.", "max.", "min.",
    "art.", "lid.", "jl.", "a.s.", "j.l.", "vnl.", "m.n.", "o.l.v.", "a.d.h.v.", "p.p.",
}


def dutch_tokenizer_exceptions() -> dict:
    from spacy.lang.nl import Dutch
    from spacy.lang.tokenizer_exceptions import BASE_EXCEPTIONS

    exceptions = dict(BASE_EXCEPTIONS)
    for key, value in Dutch.Defaults.tokenizer_exceptions.items():
        if key.lower() in EVERYDAY_ABBREVIATIONS:
            exceptions[key] = value
    return exceptions


def make_nlp(lemma_table: Mapping[str, str] | None = None):
    """A blank Dutch pipeline with a lookup lemmatizer using ``lemma_table``.

    Without a table, the full Dutch table of spacy-lookups-data is used.
    """
    import spacy
    from spacy.lang.nl import Dutch
    from spacy.lookups import Lookups

    class SchoolDutchDefaults(Dutch.Defaults):
        tokenizer_exceptions = dutch_tokenizer_exceptions()

    class SchoolDutch(Dutch):
        lang = "nl"
        Defaults = SchoolDutchDefaults

    nlp = SchoolDutch()
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    if lemma_table is None:
        lemma_table = full_lemma_table()
    lookups = Lookups()
    lookups.add_table("lemma_lookup", dict(lemma_table))
    lemmatizer.initialize(lookups=lookups)
    del spacy
    return nlp


def full_lemma_table(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Dutch lookup table of spacy-lookups-data, plus ``extra`` forms, case-folded."""
    from spacy.lookups import load_lookups

    table = dict(load_lookups("nl", ["lemma_lookup"]).get_table("lemma_lookup").items())
    table.update(extra or {})
    return with_case_variants(table)


def with_case_variants(table: Mapping[str, str]) -> dict[str, str]:
    out = dict(table)
    for form, lemma in table.items():
        for variant in (form.capitalize(), form.upper()):
            out.setdefault(variant, lemma)
    return out


def reduced_lemma_table(table: Mapping[str, str], wanted: Iterable[str]) -> dict[str, str]:
    """The part of ``table`` that can change whether a pattern lemma matches.

    A token's lemma equals a wanted lemma either because the table maps it there, or
    because the token is not in the table and its text is the lemma. Keeping every
    form that maps to a wanted lemma, every wanted form that maps elsewhere, and the
    case variants of the wanted lemmas gives the same matches as the full table.
    """
    wanted = set(wanted)
    reduced = {form: lemma for form, lemma in table.items() if lemma in wanted or form in wanted}
    for lemma in wanted:
        for variant in (lemma.capitalize(), lemma.upper()):
            reduced.setdefault(variant, table.get(variant, lemma))
    return reduced
