"""Tests of the scoring stage: catalogue, facts, sector detection, every checker,
peildatum weighting and the evaluation against the labelled corpus."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from protocolscan.model import Document, Passage, ProtocolscanError, Tag
from protocolscan.scoring import (CatalogueError, detect_sector, extract_facts, load_catalogue,
                                  load_settings, load_study, normalize, parties_in, score)
from protocolscan.scoring.checkers import check_requirement, view_document

CATALOGUE = load_catalogue()
SETTINGS = load_settings()


def make_doc(*passages, title: str = "Verzuimprotocol basisschool De Proef", doc_id: str = "t") -> Document:
    """A Document from passages given as text or (text, [codes]) or (kind, text, [codes])."""
    out = []
    for i, item in enumerate(passages, 1):
        kind, codes = "p", []
        if isinstance(item, str):
            text = item
        elif len(item) == 2:
            text, codes = item
        else:
            kind, text, codes = item
        out.append(Passage(n=i, kind=kind, text=text, tags=[Tag(c, 1.0, "test") for c in codes]))
    return Document(id=doc_id, title=title, passages=out, text="\n\n".join(p.text for p in out))


def verdict_of(req_id: str, doc: Document, covers=("po",)):
    finding = check_requirement(CATALOGUE.get(req_id), view_document(doc), list(covers), SETTINGS.regional)
    return finding


UNRELATED = "Op woensdagmiddag is er geen school en kunnen de kinderen sporten in de gymzaal."

# (requirement, expected verdict, passages). Own short Dutch phrasings; passages are
# given without codes unless the checker needs a code (M-items that count topics).
CASES = [
    # W01 melding 16 uur
    ("W01", "voldaan", ["Heeft een leerling zestien uur of meer ongeoorloofd verzuimd binnen vier opeenvolgende lesweken, dan meldt de directeur dit via het verzuimregister van DUO."]),
    ("W01", "deels", [("Verzuimt een leerling vaak zonder reden, dan meldt de school dit bij de leerplichtambtenaar.", ["procedure.ongeoorloofd"])]),
    ("W01", "onjuist", [("Volgens de wet zijn wij verplicht ongeoorloofd verzuim van 12 uur in vier weken te melden bij leerplicht.", ["procedure.ongeoorloofd"])]),
    ("W01", "onjuist", [("De school is wettelijk verplicht verzuim van drie dagen achter elkaar te melden bij de leerplichtambtenaar.", ["procedure.ongeoorloofd"])]),
    ("W01", "onjuist", ["De school is wettelijk verplicht 16 uur ongeoorloofd verzuim binnen zes weken te melden bij de leerplichtambtenaar."]),
    ("W01", "onjuist", ["Volgens de wet meldt de school verzuim bij de leerplichtambtenaar als een leerling in vier weken meer dan een achtste van de lestijd mist."]),
    ("W01", "ontbreekt", [UNRELATED]),
    # W02 registratie
    ("W02", "voldaan", [("De docent registreert bij het begin van elk lesuur de aanwezigheid in Magister.", ["registratie"])]),
    ("W02", "deels", [("De leerkracht registreert de afwezigheid.", ["registratie"])]),
    ("W02", "ontbreekt", [UNRELATED]),
    # W03 ziekmelding
    ("W03", "voldaan", ["Is uw kind ziek, meld het dan vóór 8.15 uur telefonisch bij de administratie."]),
    ("W03", "deels", [("Is uw kind ziek, bel dan de school.", ["procedure.geoorloofd"])]),
    ("W03", "ontbreekt", [UNRELATED]),
    # W04 luxe verzuim
    ("W04", "voldaan", ["Gaat u zonder toestemming eerder op vakantie, dan is dat luxe verzuim. De school meldt dit altijd bij de leerplichtambtenaar, ook als het om één dag gaat."]),
    ("W04", "deels", ["Gaat u zonder toestemming eerder op vakantie, dan is dat luxe verzuim. De directeur kan dit melden bij de leerplichtambtenaar."]),
    ("W04", "ontbreekt", [UNRELATED]),
    # W05 langdurig verzuim
    ("W05", "voldaan", ["Is een leerling langer dan vier weken afwezig, dan meldt de school dit als langdurig verzuim bij leerplicht en schakelt zij het samenwerkingsverband in."]),
    ("W05", "deels", ["Is een leerling langer dan vier weken afwezig, dan meldt de school dit als langdurig verzuim bij leerplicht."]),
    ("W05", "ontbreekt", [UNRELATED]),
    # W06 vakantieverlof
    ("W06", "voldaan", ["Vakantieverlof krijgt u alleen als u door de aard van uw beroep in geen enkele schoolvakantie weg kunt; lever een werkgeversverklaring in. Het verlof wordt één keer per schooljaar gegeven, voor maximaal tien schooldagen, en niet in de eerste twee lesweken."]),
    ("W06", "deels", ["Vakantieverlof krijgt u alleen als u door de aard van uw beroep in geen enkele schoolvakantie weg kunt."]),
    ("W06", "onjuist", ["Vakantieverlof kan alleen vanwege uw beroep, één keer per schooljaar, voor maximaal vijftien schooldagen."]),
    ("W06", "onjuist", [("Voor vakantieverlof vanwege het werk van een ouder gelden deze voorwaarden:", ["type.verlof"]),
                        ("li", "het verlof wordt eenmaal per schooljaar gegeven;", ["type.verlof"]),
                        ("li", "het verlof duurt maximaal drie weken.", ["type.verlof"])]),
    ("W06", "ontbreekt", [UNRELATED]),
    # W07 gewichtige omstandigheden
    ("W07", "voldaan", ["Voor gewichtige omstandigheden, zoals een huwelijk, beslist de directeur over verlof tot en met tien schooldagen. Voor meer dan tien schooldagen beslist de leerplichtambtenaar."]),
    ("W07", "deels", ["Bij gewichtige omstandigheden, zoals een begrafenis, kunt u verlof vragen; de directeur beslist."]),
    ("W07", "onjuist", ["Bij gewichtige omstandigheden beslist de directeur tot en met vijf schooldagen; daarboven beslist de leerplichtambtenaar."]),
    ("W07", "ontbreekt", [UNRELATED]),
    # W08 besluit en bezwaar
    ("W08", "voldaan", [("U krijgt de beslissing schriftelijk. Bent u het er niet mee eens, dan kunt u binnen zes weken bezwaar maken.", ["procedure.verlof"])]),
    ("W08", "deels", [("U krijgt de beslissing op uw aanvraag schriftelijk.", ["procedure.verlof"])]),
    ("W08", "onjuist", [("U krijgt de beslissing schriftelijk. U kunt binnen twee weken bezwaar maken bij de directeur.", ["procedure.verlof"])]),
    ("W08", "ontbreekt", [UNRELATED]),
    # W09 religieuze verplichtingen
    ("W09", "voldaan", ["Voor religieuze feestdagen, zoals het Suikerfeest, krijgt uw kind vrij als u dit uiterlijk twee dagen van tevoren meldt."]),
    ("W09", "deels", ["Voor religieuze feestdagen, zoals het Suikerfeest, krijgt uw kind vrij."]),
    ("W09", "ontbreekt", [UNRELATED]),
    # W10 vijfjarigen
    ("W10", "voldaan", ["Een kind van vijf jaar mag na melding bij de directeur maximaal vijf uur per week thuisblijven; de directeur kan nog eens vijf uur toestaan."]),
    ("W10", "deels", ["Kinderen van vijf jaar mogen maximaal vijf uur per week thuisblijven."]),
    ("W10", "onjuist", ["Vijfjarige kinderen mogen maximaal tien uur per week thuisblijven als de ouders dat willen."]),
    ("W10", "ontbreekt", [UNRELATED]),
    # W11 schorsing
    ("W11", "voldaan", ["Een schorsing duurt ten hoogste één week. Ouders krijgen het besluit schriftelijk; bij een schorsing van meer dan één dag wordt de inspectie geïnformeerd. Een schorsing telt niet als verzuim."]),
    ("W11", "voldaan", ["Voor schorsing en verwijdering volgen wij ons schorsingsprotocol."]),
    ("W11", "deels", ["Bij ernstig wangedrag kan de directeur een leerling schorsen."]),
    ("W11", "onjuist", ["Een schorsing duurt maximaal twee weken; ouders krijgen een brief."]),
    ("W11", "ontbreekt", [UNRELATED]),
    # W12 bekendmaken
    ("W12", "voldaan", ["Dit verzuimprotocol staat in de schoolgids; aan het begin van elk schooljaar informeren wij ouders erover in de nieuwsbrief."]),
    ("W12", "deels", ["Dit verzuimprotocol staat ook op de website."]),
    ("W12", "ontbreekt", [UNRELATED]),
    # W13 privacy
    ("W13", "voldaan", ["Wij noteren alleen dat een leerling ziek is, nooit een diagnose. Gegevens delen wij met de jeugdarts alleen met toestemming van ouders."]),
    ("W13", "deels", ["Wij gaan zorgvuldig om met persoonsgegevens volgens de AVG."]),
    ("W13", "ontbreekt", [UNRELATED]),
    # W14 RMC
    ("W14", "voldaan", ["Leerlingen van 18 jaar of ouder zonder startkwalificatie: verzuim van vier weken of meer melden wij bij het RMC."]),
    ("W14", "deels", ["Voor leerlingen van 18 jaar en ouder werken wij samen met het RMC."]),
    ("W14", "ontbreekt", [UNRELATED]),
    # W15 in- en uitschrijving, verwijdering
    ("W15", "voldaan", ["In- en uitschrijvingen geven wij via DUO door aan de gemeente. Een verwijdering melden wij direct bij de leerplichtambtenaar."]),
    ("W15", "deels", ["In- en uitschrijvingen geven wij via DUO door aan de gemeente."]),
    ("W15", "ontbreekt", [UNRELATED]),
    # M01 definities
    ("M01", "voldaan", [("Geoorloofd verzuim is afwezigheid met een geldige reden.", ["type.geoorloofd"]),
                        ("Ongeoorloofd verzuim is afwezigheid zonder geldige reden.", ["type.ongeoorloofd"]),
                        ("Luxe verzuim is vakantie zonder toestemming.", ["type.luxe"]),
                        ("Signaalverzuim is verzuim dat zorgen geeft, bijvoorbeeld steeds op maandag ziek.", ["type.signaal"])]),
    ("M01", "deels", [("Geoorloofd verzuim is afwezigheid met een geldige reden.", ["type.geoorloofd"])]),
    ("M01", "ontbreekt", [UNRELATED]),
    # M02 contact ouders
    ("M02", "voldaan", [("Is een leerling niet afgemeld, dan belt de administratie de ouders dezelfde ochtend.", ["procedure.ongeoorloofd"])]),
    ("M02", "deels", [("Is een leerling niet afgemeld, dan neemt de school zo snel mogelijk contact op met de ouders.", ["procedure.ongeoorloofd"])]),
    ("M02", "ontbreekt", [UNRELATED]),
    # M03 M@ZL
    ("M03", "voldaan", ["Is een leerling vier keer in twaalf schoolweken ziek gemeld, dan meldt de mentor hem aan bij de jeugdarts."]),
    ("M03", "deels", ["Is een leerling vaak ziek, dan kan de mentor de jeugdarts inschakelen."]),
    ("M03", "ontbreekt", [UNRELATED]),
    # M04 signaalverzuim onder 16 uur
    ("M04", "voldaan", ["Bij signaalverzuim voert de mentor een gesprek; mist een leerling meer dan 8 uur in zes weken, dan vragen we de leerplichtambtenaar om advies."]),
    ("M04", "deels", ["Bij signaalverzuim voert de mentor een gesprek met leerling en ouders."]),
    ("M04", "ontbreekt", [UNRELATED]),
    # M05 te laat
    ("M05", "voldaan", ["Na 3 keer te laat volgt een gesprek, na 6 keer een brief en na 12 keer een melding bij leerplicht."]),
    ("M05", "deels", ["Wie te laat komt, meldt zich bij de conciërge."]),
    ("M05", "ontbreekt", [UNRELATED]),
    # M06 stappen vóór melding
    ("M06", "voldaan", [("Bij ongeoorloofd verzuim volgt eerst een gesprek en een schriftelijke waarschuwing; alles wordt in het dossier vastgelegd.", ["procedure.ongeoorloofd"])]),
    ("M06", "deels", [("Bij ongeoorloofd verzuim volgt eerst een gesprek met de mentor.", ["procedure.ongeoorloofd"])]),
    ("M06", "ontbreekt", [UNRELATED]),
    # M07 rollen
    ("M07", "voldaan", [("De leerkracht registreert de afwezigheid. De administratie belt de ouders. De intern begeleider doet de melding bij leerplicht.", ["rol.school"])]),
    ("M07", "deels", [("De leerkracht registreert de afwezigheid in het systeem.", ["rol.school"])]),
    ("M07", "ontbreekt", [UNRELATED]),
    # M08 ketenpartners
    ("M08", "voldaan", ["De leerplichtambtenaar en de jeugdarts nemen deel aan het ondersteuningsteam, waar wij zorgelijk verzuim bespreken."]),
    ("M08", "deels", [("De jeugdverpleegkundige van de GGD houdt spreekuur op school.", ["rol.jeugdarts"])]),
    ("M08", "ontbreekt", [UNRELATED]),
    # M09 thuiszitters
    ("M09", "voldaan", ["Dreigt een leerling thuiszitter te worden, dan organiseren wij een overleg met het samenwerkingsverband en maken we een plan van aanpak."]),
    ("M09", "deels", ["Dreigt een leerling thuiszitter te worden, dan bespreken we dit in het overleg met ouders en maken we afspraken."]),
    ("M09", "ontbreekt", [UNRELATED]),
    # M10 visie
    ("M10", "voldaan", ["Onze visie: elk kind heeft recht op onderwijs; daarom vinden wij aanwezigheid belangrijk."]),
    ("M10", "ontbreekt", [UNRELATED]),
    # M11 doel en grondslag
    ("M11", "voldaan", ["Dit protocol beschrijft hoe wij met verzuim omgaan en is gebaseerd op de Leerplichtwet 1969."]),
    ("M11", "deels", [("Dit protocol beschrijft hoe wij met verzuim omgaan.", ["protocol.doel"])]),
    ("M11", "ontbreekt", [UNRELATED]),
    # M12 evaluatie en borging
    ("M12", "voldaan", ["Dit protocol is vastgesteld in juni 2026. De directeur evalueert het jaarlijks met het team."]),
    ("M12", "deels", ["Dit protocol is vastgesteld door de directie."]),
    ("M12", "ontbreekt", [UNRELATED]),
    # M13 preventie en monitoring
    ("M13", "voldaan", ["De mentor bekijkt wekelijks een overzicht van de absenties en let op patronen; de leerplichtambtenaar houdt een preventief spreekuur."]),
    ("M13", "deels", ["De mentor bekijkt wekelijks een overzicht van de absenties."]),
    ("M13", "ontbreekt", [UNRELATED]),
    # T01 alle verzuim registreren
    ("T01", "voldaan", [("Wij registreren alle afwezigheid, ook ziekte, met een vaste reden.", ["registratie"])]),
    ("T01", "deels", [("Elke absentie wordt genoteerd in het systeem.", ["registratie"])]),
    ("T01", "ontbreekt", [UNRELATED]),
    # T02 kader zorgelijk verzuim
    ("T02", "voldaan", ["Verzuim is zorgelijk als een leerling in zes weken meer dan 8 uur mist; dan doet de school een signaal bij leerplicht."]),
    ("T02", "deels", ["Verzuim is zorgelijk als een leerling steeds op maandag ontbreekt."]),
    ("T02", "ontbreekt", [UNRELATED]),
    # T03 analyse verzuimgegevens
    ("T03", "voldaan", ["Elk kwartaal analyseert de directie de verzuimcijfers per groep en past zo nodig het beleid aan."]),
    ("T03", "deels", ["De directie analyseert de verzuimcijfers per groep en bespreekt ze met het team."]),
    ("T03", "ontbreekt", [UNRELATED]),
]


@pytest.mark.parametrize("req_id,expected,passages", CASES, ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_checker(req_id, expected, passages):
    covers = ("vo",) if req_id == "W14" else ("po",)
    finding = verdict_of(req_id, make_doc(*passages), covers)
    assert finding.verdict.verdict == expected, finding.verdict.note
    if expected in ("deels", "onjuist"):
        assert finding.verdict.note, "deels/onjuist must say what is missing or wrong"
        assert finding.verdict.evidence
    if expected == "onjuist":
        assert finding.wrong and finding.wrong[0]["quote"]
    if expected == "ontbreekt":
        assert finding.verdict.evidence == []


def test_every_requirement_has_cases_for_three_outcomes():
    seen: dict[str, set[str]] = {}
    for req_id, verdict, _ in CASES:
        seen.setdefault(req_id, set()).add(verdict)
    assert set(seen) == set(CATALOGUE.ids)
    for req_id, verdicts in seen.items():
        assert "ontbreekt" in verdicts and "voldaan" in verdicts, req_id
        assert verdicts & {"deels", "onjuist"} or req_id == "M10", req_id
        if CATALOGUE.get(req_id).check.wrong:
            assert "onjuist" in verdicts, f"{req_id} has wrong-rules but no onjuist case"


@pytest.mark.parametrize("text", [
    "Na 3 keer te laat volgt een gesprek met de mentor.",
    "Bij vier ziekmeldingen in twaalf weken nodigt de jeugdarts de leerling uit.",
    "Bij 8 uur ongeoorloofd verzuim voert de mentor intern een gesprek; bij 16 uur in vier opeenvolgende lesweken meldt de school wettelijk verplicht bij leerplicht via DUO.",
    "De school is wettelijk verplicht verzuim van 16 uur of meer binnen 4 lesweken te melden. Ook bij minder uren kan de school 8 uur al melden als overig verzuim bij leerplicht.",
    "Intern bespreken we een leerling al bij 8 uur verzuim; de wettelijke meldplicht bij leerplicht geldt bij 16 uur in 4 opeenvolgende lesweken.",
    "Vakantieverlof aanvragen moet minstens acht weken van tevoren; het verlof duurt maximaal tien schooldagen.",
    "Bij een schorsing van meer dan één dag informeren wij de inspectie; een schorsing duurt ten hoogste vijf schooldagen.",
])
def test_correct_mentions_of_other_numbers_are_not_wrong(text):
    doc = make_doc((text, ["procedure.ongeoorloofd", "procedure.te_laat"]))
    for req_id in ("W01", "W06", "W07", "W11"):
        assert verdict_of(req_id, doc).verdict.verdict != "onjuist", req_id


def test_wrong_code_does_not_flip_a_legal_verdict():
    """W01 is decided by the text: with the right code, a wrong one or none it stays voldaan."""
    text = "Bij 16 uur ongeoorloofd verzuim in 4 opeenvolgende lesweken meldt de school dit via het DUO-verzuimloket."
    for codes in (["procedure.ongeoorloofd"], ["rol.ouders"], []):
        assert verdict_of("W01", make_doc((text, codes))).verdict.verdict == "voldaan"


def test_nvt_follows_the_sector():
    doc = make_doc(UNRELATED)
    assert verdict_of("W10", doc, ("vo",)).verdict.verdict == "nvt"
    assert verdict_of("W14", doc, ("po",)).verdict.verdict == "nvt"
    assert verdict_of("W14", doc, ("po", "vo")).verdict.verdict == "ontbreekt"  # regio covering vo


# -- facts ----------------------------------------------------------------------------

@pytest.mark.parametrize("text,value,unit", [
    ("zestien uur", 16, "uur"), ("vier (opeenvolgende) lesweken", 4, "week"),
    ("tien schooldagen", 10, "dag"), ("de eerste twee lesweken", 2, "week"),
    ("twee dagen van tevoren", 2, "dag"), ("vier ziekmeldingen in twaalf weken", 4, "ziekmelding"),
    ("binnen 6 weken bezwaar", 6, "week"), ("na 3 keer te laat", 3, "keer"),
])
def test_facts_read_numbers_and_number_words(text, value, unit):
    facts = extract_facts(text)
    assert any(f.value == value and f.unit == unit for f in facts), facts


def test_normalize_keeps_article_een_but_reads_een_week():
    assert normalize("Een leerling is een week ziek") == "een leerling is 1 week ziek"
    assert "1e 2 lesweken" in normalize("niet in de eerste twee lesweken")


def test_parties_and_channels():
    found = parties_in("Melding via het DUO-verzuimloket aan de leerplichtambtenaar; de jeugdarts en het RMC; het samenwerkingsverband.")
    assert {"duo", "verzuimloket", "leerplicht", "jeugdarts", "rmc", "samenwerkingsverband"} <= found


# -- sector ---------------------------------------------------------------------------

@pytest.mark.parametrize("title,body,sector,level", [
    ("Verzuimprotocol OBS De Linde", "De leerkracht van groep 3 belt de ouders.", "po", "school"),
    ("Verzuimprotocol Stedelijk Lyceum", "De mentor van klas 2 havo spreekt je aan.", "vo", "school"),
    ("Verzuimbeleid VSO De Horizon", "Leerlingen van het voortgezet speciaal onderwijs.", "vso", "school"),
    ("Verzuimprotocol SO De Regenboog (cluster 3)", "Speciaal onderwijs voor leerlingen met een beperking.", "so", "school"),
    ("Regionaal verzuimprotocol primair onderwijs regio Waalland", "Alle scholen in de regio melden verzuim. Dit geldt voor het primair onderwijs en het voortgezet onderwijs.", "regio", "regionaal"),
])
def test_sector_detection(title, body, sector, level):
    info = detect_sector(make_doc(body, title=title))
    assert (info.sector, info.level) == (sector, level)


def test_regional_protocol_covers_named_sectors_and_override_wins():
    doc = make_doc("Afspraken voor het primair onderwijs en het voortgezet onderwijs in de regio.",
                   "Basisscholen en scholen voor voortgezet onderwijs registreren verzuim per dagdeel.",
                   title="Regionaal verzuimprotocol regio Waalland")
    assert set(detect_sector(doc).covers) == {"po", "vo"}
    info = detect_sector(doc, "vo")
    assert (info.sector, info.covers, info.source) == ("vo", ["vo"], "opgegeven")
    assert detect_sector(doc, "regio,po").covers == ["po"]
    school = make_doc("Onze school voor speciaal onderwijs.", title="Verzuimprotocol De Linde")
    info = detect_sector(school, "so,vso")
    assert (info.sector, info.covers, info.level) == ("so", ["so", "vso"], "school")
    with pytest.raises(ProtocolscanError, match="onbekende sector"):
        detect_sector(doc, "mbo")


# -- peildatum and scores -----------------------------------------------------------------

def test_wts_weight_depends_on_peildatum():
    t01 = CATALOGUE.get("T01")
    assert SETTINGS.weight(t01, dt.date(2027, 7, 31)) == 1
    assert SETTINGS.weight(t01, dt.date(2027, 8, 1)) == 3
    assert SETTINGS.weight(CATALOGUE.get("W01"), dt.date(2027, 8, 1)) == 3
    assert SETTINGS.weight(CATALOGUE.get("M01"), dt.date(2020, 1, 1)) == 2


def test_score_sets_verdicts_scores_and_summary():
    doc = make_doc("Heeft een leerling 16 uur ongeoorloofd verzuimd in 4 opeenvolgende lesweken, dan meldt de directeur dit via DUO.")
    before = score(doc, CATALOGUE, SETTINGS, sector="po", peildatum="2026-11-24")
    scoring = before.metadata["scoring"]
    assert len(doc.verdicts) == 31 and scoring["peildatum"] == "2026-11-24"
    wet = next(l for l in scoring["scores"]["layers"] if l["layer"] == "wet")
    assert wet["voldaan"] == 1 and wet["nvt"] == 1 and wet["applicable"] == 14
    assert scoring["summary"][0].startswith("wettelijke onderdelen: 1 van 14 voldaan")
    wts_before = next(l for l in scoring["scores"]["layers"] if l["layer"] == "wts")["max"]
    after = score(doc, CATALOGUE, SETTINGS, sector="po", peildatum="2027-08-01").metadata["scoring"]
    wts_after = next(l for l in after["scores"]["layers"] if l["layer"] == "wts")["max"]
    assert (wts_before, wts_after) == (3, 9)


def test_bad_peildatum_gives_dutch_error():
    with pytest.raises(CatalogueError, match="geen geldige datum"):
        score(make_doc(UNRELATED), CATALOGUE, SETTINGS, peildatum="24-11-2026")


def test_study_comparison_sentence():
    doc = make_doc(("Geoorloofd verzuim is afwezigheid met een geldige reden.", ["type.geoorloofd"]))
    rows = score(doc, CATALOGUE, SETTINGS, sector="po").metadata["scoring"]["study"]
    row = next(r for r in rows if r["code"] == "type.geoorloofd")
    assert row["sentence_nl"] == "38% van de 45 scholen in het onderzoek definieerde geoorloofd verzuim; dit protocol doet dat wel."
    other = next(r for r in rows if r["code"] == "type.luxe")
    assert other["sentence_nl"].endswith("dit protocol doet dat niet.")


def test_study_figures_are_the_printed_table():
    study = load_study()
    assert study["n_schools"] == 45
    assert (study["codes"]["registratie"]["scholen"], study["codes"]["registratie"]["procent"]) == (33, 73)
    assert study["codes"]["procedure.thuiszitten"]["procent"] == 7
    assert study["codes"]["rol.zorg"]["label_nl"] == "Zorg (jeugdzorg, GGD e.d.)"


# -- catalogue --------------------------------------------------------------------------

def test_catalogue_has_31_requirements_in_three_layers():
    assert CATALOGUE.version == "2026-11"
    ids = CATALOGUE.ids
    assert ids[:15] == [f"W{i:02d}" for i in range(1, 16)]
    assert ids[15:28] == [f"M{i:02d}" for i in range(1, 14)]
    assert ids[28:] == ["T01", "T02", "T03"]
    for req in CATALOGUE.requirements:
        assert req.explanation_nl and req.question_nl and req.example_nl and req.source, req.id
    assert CATALOGUE.get("W10").sectors == ["po", "so"]
    assert CATALOGUE.get("W14").sectors == ["vo", "vso"]


def test_extension_adds_and_overrides_by_id(tmp_path: Path):
    ext = tmp_path / "regio.yaml"
    ext.write_text("""
version: regio-waalland-1
requirements:
  - id: W03
    title_nl: Ziekmelding (regio Waalland)
  - id: R01
    title_nl: Verzuimspreekuur
    layer: mas
    sectors: all
    source: Regionale afspraak Waalland
    covered_when: Het protocol noemt het verzuimspreekuur.
    explanation_nl: Noem het maandelijkse verzuimspreekuur met de leerplichtambtenaar.
    check:
      scope: {patterns: ['verzuimspreekuur']}
""", encoding="utf-8")
    cat = load_catalogue(extensions=[ext])
    assert cat.version == "2026-11+regio-waalland-1"
    assert cat.get("W03").title_nl == "Ziekmelding (regio Waalland)"
    assert cat.get("W03").check.elements  # the rest of W03 is kept
    assert cat.ids[-1] == "R01" and len(cat.ids) == 32
    doc = make_doc("Elke maand is er een verzuimspreekuur met de leerplichtambtenaar.")
    assert check_requirement(cat.get("R01"), view_document(doc), ["po"]).verdict.verdict == "voldaan"
    # The same file given as the catalogue itself, marked as an extension.
    marked = tmp_path / "regio-extends.yaml"
    marked.write_text("extends: default\n" + ext.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_catalogue(marked).ids == cat.ids


@pytest.mark.parametrize("body,message", [
    ("requirements: []", "version"),
    ("version: x\nrequirements:\n  - id: X1\n    title_nl: a", "verplichte velden ontbreken"),
    ("version: x\nrequirements:\n  - {id: X1, title_nl: a, layer: law, sectors: all, source: s, covered_when: c, explanation_nl: e, check: {scope: {patterns: [a]}}}", "laag"),
    ("version: x\nrequirements:\n  - {id: X1, title_nl: a, layer: wet, sectors: [mbo], source: s, covered_when: c, explanation_nl: e, check: {scope: {patterns: [a]}}}", "sector"),
    ("version: x\nrequirements:\n  - {id: X1, title_nl: a, layer: wet, sectors: all, source: s, covered_when: c, explanation_nl: e, check: {scope: {patterns: ['(']}}}", "ongeldig zoekpatroon"),
    ("version: x\nrequirements: [\n", "geen geldige YAML"),
])
def test_invalid_catalogue_gives_clear_dutch_errors(tmp_path: Path, body, message):
    path = tmp_path / "eisen.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CatalogueError, match=message) as err:
        load_catalogue(path)
    assert str(path) in str(err.value)


# -- evaluation against the labelled corpus ---------------------------------------------

def test_verdicts_agree_with_gold_on_the_seed_corpus():
    from protocolscan.audit import evaluate_verdicts

    evaluation = evaluate_verdicts(("seed",), use_gold_codes=True)
    assert evaluation.documents == 60 and len(evaluation.pairs) == 60 * 31
    assert evaluation.agreement >= 0.85
    assert evaluation.w_missing_recall >= 0.95
    assert evaluation.w_missing_as_voldaan == 0
    text = evaluation.to_text()
    assert "exacte overeenstemming" in text and "verwarringsmatrix" in text


def test_empty_document_degrades_gracefully():
    doc = score(Document(id="leeg"), CATALOGUE, SETTINGS, peildatum="2026-11-24")
    verdicts = {v.verdict for v in doc.verdicts}
    assert len(doc.verdicts) == 31 and verdicts <= {"ontbreekt", "nvt"}
    assert doc.metadata["scoring"]["scores"]["overall"]["percent"] == 0
