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

As in spaCy's Dutch lemmatizer, the lower-cased form is looked up, so "Ouders" at
the start of a sentence lemmatises like "ouders".
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
    from spacy.lang.nl import Dutch
    from spacy.lookups import Lookups

    class SchoolDutchDefaults(Dutch.Defaults):
        tokenizer_exceptions = dutch_tokenizer_exceptions()

    class SchoolDutch(Dutch):
        lang = "nl"
        Defaults = SchoolDutchDefaults

    register_fast_lemmatizer()
    nlp = SchoolDutch()
    lemmatizer = nlp.add_pipe(FAST_LEMMATIZER, config={"mode": "lookup"})
    if lemma_table is None:
        lemma_table = full_lemma_table()
    lookups = Lookups()
    lookups.add_table("lemma_lookup", dict(lemma_table))
    lemmatizer.initialize(lookups=lookups)
    return nlp


FAST_LEMMATIZER = "protocolscan_lookup_lemmatizer"


def register_fast_lemmatizer() -> None:
    """spaCy's lookup lemmatizer, with its per-token Python loop done in numpy.

    Same table, same semantics (lemma = table.get(text, text)); spaCy's loop costs a
    fifth of a millisecond per passage, a third of our whole budget.
    """
    from spacy.language import Language

    if Language.has_factory(FAST_LEMMATIZER):
        return

    @Language.factory(FAST_LEMMATIZER, default_config={"mode": "lookup", "overwrite": False})
    def make_fast_lemmatizer(nlp, name: str, mode: str, overwrite: bool):
        return fast_lemmatizer_class()(nlp.vocab, None, name, mode=mode, overwrite=overwrite)


def fast_lemmatizer_class():
    import numpy as np
    from spacy.lang.nl.lemmatizer import DutchLemmatizer as Lemmatizer

    class FastLookupLemmatizer(Lemmatizer):
        def initialize(self, get_examples=None, *, nlp=None, lookups=None):
            super().initialize(get_examples, nlp=nlp, lookups=lookups)
            table = self.lookups.get_table("lemma_lookup")
            strings = self.vocab.strings
            # Table keys are already string hashes; the lemmas must be interned.
            pairs = sorted((key, strings.add(lemma)) for key, lemma in table.items())
            self._keys = np.array([k for k, _ in pairs], dtype=np.uint64)
            self._values = np.array([v for _, v in pairs], dtype=np.uint64)

        def __call__(self, doc):
            if len(doc) == 0:
                return doc
            # Like spaCy's DutchLemmatizer: look up the lower-cased form.
            orth = doc.to_array("LOWER")
            lemmas = orth.copy()
            if len(self._keys):
                idx = np.searchsorted(self._keys, orth)
                idx[idx >= len(self._keys)] = 0
                found = self._keys[idx] == orth
                lemmas[found] = self._values[idx[found]]
            doc.from_array(["LEMMA"], lemmas)
            return doc

    return FastLookupLemmatizer


def full_lemma_table(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Dutch lookup table of spacy-lookups-data, plus ``extra`` forms, case-folded."""
    import gzip
    import json
    from importlib.resources import files

    # spaCy's Table keys are hashes; the original strings are in the package's JSON.
    source = files("spacy_lookups_data") / "data" / "nl_lemma_lookup.json.gz"
    with gzip.open(source.open("rb"), "rt", encoding="utf-8") as fh:
        table = json.load(fh)
    table.update({k.lower(): v.lower() for k, v in (extra or {}).items()})
    return table


def reduced_lemma_table(table: Mapping[str, str], wanted: Iterable[str]) -> dict[str, str]:
    """The part of ``table`` that can change whether a pattern lemma matches.

    A token's lemma equals a wanted lemma either because the table maps its lower-cased
    text there, or because that text is not in the table and is itself the lemma.
    Keeping every form that maps to a wanted lemma and every wanted form that maps
    elsewhere gives the same matches as the full table.
    """
    wanted = set(wanted)
    return {form: lemma for form, lemma in table.items() if lemma in wanted or form in wanted}
