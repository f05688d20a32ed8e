"""Tests of the tagging stage: codebook loader, rules and their evidence, the
classifier's determinism, the grouped split, and the shipped model."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from protocolscan import learn
from protocolscan.gold import document_from_json
from protocolscan.model import Document, Passage
from protocolscan.tagging.codebook import CodebookError, load_codebook
from protocolscan.tagging.rules import RuleMatcher, build_lemma_table, load_rules, rules_from_text
from protocolscan.tagging.store import read_state, read_state_with_skops
from protocolscan.tagging.tagger import LabelledDocument, Tagger, training_data_hash

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "tagger.skops"


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


@pytest.fixture(scope="module")
def ruleset(codebook):
    return load_rules(codebook=codebook)


@pytest.fixture(scope="module")
def matcher(ruleset):
    return RuleMatcher(ruleset, build_lemma_table(ruleset))


@pytest.fixture(scope="module")
def corpus():
    return learn.labelled_documents(("seed", "extra"))


@pytest.fixture(scope="module")
def shipped():
    return learn.load_tagger(MODEL)


def passages_of(*items: tuple[str, str], heading: str = "Verzuim") -> list[Passage]:
    return [Passage(n=i, kind=kind, text=text, heading_path=[heading]) for i, (kind, text) in enumerate(items)]


# -- codebook -----------------------------------------------------------------------
def test_default_codebook_is_valid(codebook):
    assert codebook.version == "2020-B2"
    assert len(codebook.scored_ids) == 29
    assert {"procedure.thuiszitten", "rol.wijkteam", "protocol.borging"} <= set(codebook.scored_ids)
    assert codebook.level_ids == ["niveau.regionaal", "niveau.school"]
    assert all(not c.startswith("bijzonder.") for c in codebook.scored_ids)
    assert codebook.label("procedure.luxe") == "Procedure luxe verzuim"


def write_codebook(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_CODE = """  - id: a.b
    label_nl: Iets
    category: type
    definition: Een definitie.
"""


@pytest.mark.parametrize("text, problem", [
    ("version: '1'\ncodes:\n" + GOOD_CODE + GOOD_CODE, "code 'a.b' komt meer dan eens voor"),
    ("version: '1'\ncodes:\n  - id: a.b\n    category: type\n    definition: x\n", "'label_nl' ontbreekt"),
    ("version: '1'\ncodes:\n" + GOOD_CODE + "    kleur: rood\n", "onbekende sleutel(s) kleur"),
    ("version: '1'\nextra: 1\ncodes:\n" + GOOD_CODE, "onbekende sleutel(s) bovenaan: extra"),
    ("codes:\n" + GOOD_CODE, "'version' ontbreekt"),
    ("version: '1'\ncodes: [\n", "geen geldige YAML"),
])
def test_bad_codebook_gives_clear_error(tmp_path, text, problem):
    path = write_codebook(tmp_path, text)
    with pytest.raises(CodebookError) as err:
        load_codebook(path)
    assert str(path) in str(err.value)
    assert problem in str(err.value)


def test_codebook_text_lists_every_code(codebook):
    text = learn.codebook_text(codebook)
    assert text.startswith("Codeboek 2020-B2")
    assert all(code.id in text for code in codebook.codes + codebook.levels)


def test_missing_codebook_file(tmp_path):
    with pytest.raises(CodebookError, match="niet gevonden"):
        load_codebook(tmp_path / "nope.yaml")


def test_another_codebook_can_be_loaded(tmp_path):
    book = load_codebook(write_codebook(tmp_path, "version: 'eigen-1'\ncodes:\n" + GOOD_CODE))
    assert book.version == "eigen-1" and book.ids == ["a.b"]


def test_rules_must_name_codes_of_the_codebook(codebook):
    with pytest.raises(CodebookError, match="onbekende code 'type.bestaat_niet'"):
        rules_from_text("codes:\n  type.bestaat_niet:\n    - {phrase: [x]}\n", codebook)
    with pytest.raises(CodebookError, match="ongeldige reguliere expressie"):
        rules_from_text("codes:\n  type.luxe:\n    - {regex: '(open'}\n", codebook)


# -- rules ----------------------------------------------------------------------------
def test_rule_evidence_names_pattern_span_and_offsets(matcher):
    text = "Gaat u zonder toestemming op vakantie, dan melden wij dit luxe verzuim bij de leerplichtambtenaar."
    hits = matcher.match(passages_of(("p", text)))[0]
    by_pattern = {h.pattern: h for h in hits}
    luxe = by_pattern["luxe.word"]
    assert (luxe.code, luxe.text, luxe.field) == ("type.luxe", "luxe verzuim", "text")
    assert text[luxe.start:luxe.end] == "luxe verzuim"
    lpa = by_pattern["lp.party"]
    assert lpa.code == "rol.leerplicht" and text[lpa.start:lpa.end] == "leerplichtambtenaar"
    assert "luxe.holiday_without" in by_pattern  # co-occurrence of two parts
    assert "luxe.holiday" not in by_pattern  # a part alone is no hit
    assert "pluxe.report" in by_pattern
    evidence = luxe.evidence()
    assert evidence == {"pattern": "luxe.word", "text": "luxe verzuim", "start": luxe.start,
                        "end": luxe.end, "field": "text"}


def test_lemma_patterns_match_inflected_forms(matcher):
    hits = matcher.match(passages_of(("p", "De mentor registreerde de absentie en noteert elk uur.")))[0]
    assert {h.text for h in hits if h.pattern == "reg.verb"} == {"registreerde", "noteert"}


def test_heading_is_context_for_list_items(matcher):
    passages = passages_of(("li", "een lang weekend weg;"), heading="Luxe verzuim")
    hits = matcher.match(passages)[0]
    heading_hits = [h for h in hits if h.field == "heading"]
    assert {h.code for h in heading_hits} >= {"type.luxe", "procedure.luxe"}
    assert heading_hits[0].text == "Luxe"


def test_headings_themselves_get_no_hits(matcher):
    assert matcher.match([Passage(n=0, kind="h2", text="Luxe verzuim")]) == [[]]


def test_reduced_lemma_table_matches_like_the_full_table(ruleset):
    from protocolscan.tagging.nlp import full_lemma_table

    texts = ["Ouders melden hun kind ziek.", "De leerkracht heeft het verzuim geregistreerd.",
             "Leerlingen spijbelden en werden gemeld."]
    full = RuleMatcher(ruleset, full_lemma_table(ruleset.lemmas))
    reduced = RuleMatcher(ruleset, build_lemma_table(ruleset))
    assert [[(h.pattern, h.start) for h in hs] for hs in full.match_texts(texts)] == \
        [[(h.pattern, h.start) for h in hs] for hs in reduced.match_texts(texts)]


# -- training and the grouped split ----------------------------------------------------
def small_subset(corpus, n=8):
    wanted = ["po-01", "web-01", "web-05", "regio-01", "web-25", "vo-02", "xweb-03", "xweb-05"]
    return [d for d in corpus if d.document.id in wanted][:n]


def test_training_is_deterministic(corpus, codebook, ruleset, matcher):
    docs = small_subset(corpus)
    probe = [d for d in corpus if d.document.id == "web-02"][0]
    results = []
    for _ in range(2):
        tagger = Tagger.train(docs, codebook, ruleset, seed=7, matcher=matcher)
        contexts = tagger.contexts(probe.document.passages)
        results.append((tagger.probabilities(contexts).round(10).tolist(),
                        [[t.code for t in tags] for tags in tagger.decide(contexts, tagger.probabilities(contexts))]))
    assert results[0] == results[1]


def test_grouped_folds_never_split_a_document(corpus):
    docs = small_subset(corpus) + [d for d in corpus if d.document.id.startswith(("web-1", "po-0"))]
    folds = learn.grouped_folds(docs, 3, seed=1)
    seen_in_test = []
    for train, test in folds:
        assert not set(train) & set(test)
        assert set(train) | set(test) == set(range(len(docs)))
        seen_in_test.extend(test)
    assert sorted(seen_in_test) == list(range(len(docs)))


def test_grouped_evaluation_runs_on_a_few_documents(corpus):
    docs = small_subset(corpus)
    report = learn.evaluate_model(folds=2, docs=docs)
    assert report.n_documents == len(docs)
    summary = report.systems["combined"].summary()
    assert 0.0 < summary["micro_f1"] <= 1.0
    data = report.to_dict()
    assert set(data["systems"]) == {"rules", "classifier", "combined"}
    text = report.to_text()
    assert "regels + classifier" in text and "procedure.thuiszitten" in text


def test_training_data_hash_changes_with_a_code(corpus):
    docs = small_subset(corpus, 2)
    before = training_data_hash(docs)
    changed = [LabelledDocument(d.document, [list(c) for c in d.codes], d.level) for d in docs]
    changed[0].codes[1] = changed[0].codes[1] + ["rol.anders"]
    assert training_data_hash(changed) != before


# -- the shipped model -----------------------------------------------------------------
def test_shipped_model_is_trained_on_the_committed_corpus(shipped):
    assert shipped.info["training_data_hash"] == learn.corpus_hash(("seed", "extra")), \
        "models/tagger.skops is stale: run 'protocolscan train' and commit the model and its card"
    assert shipped.info["codebook_version"] == load_codebook().version


def test_shipped_model_tags_a_passage(shipped):
    doc = Document(id="t", passages=passages_of(
        ("h2", "Luxe verzuim"),
        ("p", "Gaat u zonder toestemming met uw kind op vakantie, dan is dat luxe verzuim. De directeur "
              "meldt dit altijd bij de leerplichtambtenaar, ook als het om één dag gaat."),
        ("p", "Is uw kind ziek? Meld het dan vóór 8.15 uur af via de app of bel de administratie."),
        ("p", "Telefoon 0123-456 789 · info@school.example.nl"),
    ))
    learn.tag_document(doc, shipped)
    codes = [set(p.codes) for p in doc.passages]
    assert codes[0] == set()
    assert {"type.luxe", "procedure.luxe"} <= codes[1]
    assert {"procedure.geoorloofd", "rol.ouders"} <= codes[2]
    assert codes[3] == set()
    luxe = next(t for t in doc.passages[1].tags if t.code == "type.luxe")
    assert luxe.source in ("both", "rule") and 0.0 < luxe.score <= 1.0
    assert any(e["pattern"] == "luxe.word" for e in luxe.evidence)
    assert doc.metadata["level"] in ("niveau.school", "niveau.regionaal")
    record = learn.tag_record(doc.passages[1])
    assert set(record["codes"]) == codes[1] == set(record["scores"])
    assert record["evidence"]["type.luxe"][0]["pattern"]


def test_shipped_model_finds_the_level(shipped):
    regional = json.loads((REPO / "corpora" / "seed" / "regio-01.json").read_text(encoding="utf-8"))
    doc = learn.tag_document(document_from_json(regional), shipped)
    assert doc.metadata["level"] == "niveau.regionaal"


def test_fast_model_reader_agrees_with_skops():
    fast = read_state(MODEL)
    slow = read_state_with_skops(MODEL)
    assert set(fast) == set(slow)
    for key in fast:
        a, b = fast[key], slow[key]
        if hasattr(a, "shape"):
            assert a.dtype == b.dtype and a.shape == b.shape and (a == b).all(), key
        else:
            assert a == b, key
    with zipfile.ZipFile(MODEL) as archive:
        assert "schema.json" in archive.namelist()


def test_model_for_another_codebook_version_is_refused(tmp_path):
    other = load_codebook(write_codebook(tmp_path, "version: 'eigen-1'\ncodes:\n" + GOOD_CODE))
    with pytest.raises(CodebookError, match="codeboek 2020-B2"):
        learn.load_tagger(MODEL, other)


def test_pipeline_lemmatises_like_spacys_dutch_lookup_lemmatizer():
    """Our numpy lemmatizer gives spaCy's own lemmas (offline, from spacy-lookups-data).
    Tokens may differ only where we dropped an abbreviation exception ("app." ends a
    sentence here, it is not an abbreviation of "appartement")."""
    import spacy

    from protocolscan.tagging.nlp import full_lemma_table, make_nlp

    reference = spacy.blank("nl")
    reference.add_pipe("lemmatizer", config={"mode": "lookup"})
    reference.initialize()
    ours = make_nlp(full_lemma_table())
    texts = ["Leerlingen die spijbelen, worden door de mentor gemeld bij de leerplichtambtenaren.",
             "Ouders vragen het verlof minstens acht weken van tevoren aan, bijv. via de app.",
             "Vakanties buiten de schoolvakanties zijn niet toegestaan."]
    for text in texts:
        expected = {(t.idx, t.text): t.lemma_ for t in reference(text)}
        got = {(t.idx, t.text): t.lemma_ for t in ours(text)}
        common = set(expected) & set(got)
        assert len(common) >= len(got) - 2
        assert {k: got[k] for k in common} == {k: expected[k] for k in common}
    assert [t.lemma_ for t in ours("Leerlingen spijbelen")] == ["leerling", "spijbelen"]
