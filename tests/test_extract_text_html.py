"""Plain text, Markdown and saved web pages -> blocks."""

from __future__ import annotations

import textwrap

import pytest

from protocolscan.extract import extract
from protocolscan.extract.html import extract_html
from protocolscan.extract.text import (
    extract_text, split_typed_list, strip_list_marker, typed_list_kind,
)
from protocolscan.model import ExtractionError


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(textwrap.dedent(text).lstrip("\n").encode(encoding))
    return path


def pairs(document):
    return [(b.kind, b.text) for b in document.blocks]


# ------------------------------------------------------------------ typed markers

@pytest.mark.parametrize("text, kind, rest", [
    ("• Bel de school", "li", "Bel de school"),
    ("- Bel de school", "li", "Bel de school"),
    ("* Bel de school", "li", "Bel de school"),
    ("– Bel de school", "li", "Bel de school"),
    ("▪ Bel de school", "li", "Bel de school"),
    ("o Bel de school", "li", "Bel de school"),
    ("\uf0b7\tBel de school", "li", "Bel de school"),
    ("1. Bel de school", "ol", "Bel de school"),
    ("12) Bel de school", "ol", "Bel de school"),
    ("a) Bel de school", "ol", "Bel de school"),
    ("b. Bel de school", "ol", "Bel de school"),
    ("B) Bel de school", "ol", "Bel de school"),
    ("A. Verbeek, directeur", None, "A. Verbeek, directeur"),
    ("Ouders bellen om 8.15 uur", None, "Ouders bellen om 8.15 uur"),
    ("-5 graden is koud", None, "-5 graden is koud"),
    ("omdat de school belt", None, "omdat de school belt"),
    ("1.5 uur verzuim", None, "1.5 uur verzuim"),
])
def test_typed_list_markers(text, kind, rest):
    assert typed_list_kind(text) == kind
    assert strip_list_marker(text) == rest


def test_split_typed_list_keeps_lead_in_and_continuations():
    assert split_typed_list("Twee manieren:\n- bellen\n- de app,\n  onder afwezigheid") == [
        ("p", "Twee manieren:"), ("li", "bellen"), ("li", "de app,\nonder afwezigheid")]
    assert split_typed_list("- alleen een regel\ndie doorloopt") is None


# ---------------------------------------------------------------------- plain text

PLAIN = """
    Verzuimprotocol OBS De Esdoorn

    Dit protocol beschrijft wat ouders en school doen als een leerling
    niet op school is. De directie heeft het vastgesteld.

    1. Inleiding

    De leerplichtwet verplicht ouders hun kind naar school te sturen. Hier
    staat waarom de school verzuim bijhoudt.

    1.1 Ziekmelding
    Meld uw kind ziek voor 8.15 uur. Dat kan op twee manieren:
    - telefonisch via de administratie
    - via de schoolapp, onder het kopje
      afwezigheid

    Stappen bij ongeoorloofd verzuim:

    1. De leerkracht belt dezelfde dag.
    2. Na drie keer volgt een gesprek.

    Belangrijk

    Een langere alinea na de korte regel hierboven, die de kop daarmee bevestigt.

    Deze korte regel eindigt met een punt.

    Nog een alinea die langer is dan de regel erboven, zodat alleen de punt telt.

    Met vriendelijke groet
"""


def test_plain_text_paragraphs_lists_and_conservative_headings(tmp_path):
    result = extract(write(tmp_path, "esdoorn.txt", PLAIN))
    assert result.format == "txt"
    assert result.title == "Verzuimprotocol OBS De Esdoorn"
    assert pairs(result) == [
        ("h1", "Verzuimprotocol OBS De Esdoorn"),
        ("p", "Dit protocol beschrijft wat ouders en school doen als een leerling\n"
              "niet op school is. De directie heeft het vastgesteld."),
        ("h2", "1. Inleiding"),
        ("p", "De leerplichtwet verplicht ouders hun kind naar school te sturen. Hier\n"
              "staat waarom de school verzuim bijhoudt."),
        ("h3", "1.1 Ziekmelding"),
        ("p", "Meld uw kind ziek voor 8.15 uur. Dat kan op twee manieren:"),
        ("li", "telefonisch via de administratie"),
        ("li", "via de schoolapp, onder het kopje\nafwezigheid"),
        ("p", "Stappen bij ongeoorloofd verzuim:"),
        ("ol", "De leerkracht belt dezelfde dag."),
        ("ol", "Na drie keer volgt een gesprek."),
        ("h2", "Belangrijk"),
        ("p", "Een langere alinea na de korte regel hierboven, die de kop daarmee bevestigt."),
        ("p", "Deze korte regel eindigt met een punt."),
        ("p", "Nog een alinea die langer is dan de regel erboven, zodat alleen de punt telt."),
        ("p", "Met vriendelijke groet"),
    ]
    assert all(b.page is None for b in result.blocks)


def test_numbered_list_items_alone_on_a_line_are_not_headings(tmp_path):
    path = write(tmp_path, "stappen.txt", """
        Wat doet de school bij verzuim? Dat gaat in stappen.

        1. Bel de ouders

        2. Nodig de ouders uit voor een gesprek op school

        3. Meld het verzuim bij leerplicht
    """)
    assert [b.kind for b in extract(path).blocks] == ["p", "ol", "ol", "ol"]


def test_one_paragraph_per_line_text(tmp_path):
    long_a = "Als uw kind ziek is, belt u de school voor half negen. " * 3
    long_b = "Verlof buiten de vakanties vraagt u minstens acht weken vooraf aan. " * 3
    lines = ["Afspraken over afwezigheid", "Ziekmelding", long_a.strip(), long_b.strip(),
             "2. Verlof", long_b.strip(), "Wie\tWat\tWanneer", "- kort punt", "Met vriendelijke groet"]
    path = write(tmp_path, "regels.txt", "\n".join(lines) + "\n")
    result = extract(path)
    assert [b.kind for b in result.blocks] == ["h1", "h2", "p", "p", "h2", "p", "tr", "li", "p"]
    assert result.blocks[4].text == "2. Verlof"
    assert result.blocks[6].cells == ["Wie", "Wat", "Wanneer"]


def test_utf8_bom_and_cp1252_fallback(tmp_path):
    text = "Coördinator\n\nDe coördinator beslist over verlof vóór de vakantie.\n"
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    ansi = tmp_path / "ansi.txt"
    ansi.write_bytes(text.replace("\n\n", "\n\n\u2022 ").encode("cp1252"))
    assert extract(bom).blocks[0].text == "Coördinator"
    assert pairs(extract(ansi))[1] == ("li", "De coördinator beslist over verlof vóór de vakantie.")


def test_text_without_text_is_refused(tmp_path):
    path = tmp_path / "leeg.txt"
    path.write_bytes(b"\n\n   \n\t\n")
    assert extract_text(path, "txt", None).blocks == []
    with pytest.raises(ExtractionError, match="geen tekst"):
        extract(path)


# ------------------------------------------------------------------------ Markdown

MARKDOWN = """
    Verzuimbeleid Het Kompas
    ========================

    Intro met **vet**, _cursief_ en een [link naar de gids](https://example.org/gids).

    ## Ziekmelding

    - Bel voor **8.15 uur**
    - Gebruik de app
      - genest punt

    1. Eerste stap
    2. Tweede stap

    Leerplicht
    ----------

    #### Diepe kop

    | Wie | Wat |
    |-----|-----|
    | Ouders | melden **ziek** |

    ### Verlof

    • getypt punt
    • nog een getypt punt
"""


def test_markdown_structure(tmp_path):
    result = extract(write(tmp_path, "kompas.md", MARKDOWN))
    assert result.format == "md"
    assert result.title == "Verzuimbeleid Het Kompas"
    assert pairs(result) == [
        ("h1", "Verzuimbeleid Het Kompas"),
        ("p", "Intro met vet, cursief en een link naar de gids."),
        ("h2", "Ziekmelding"),
        ("li", "Bel voor 8.15 uur"),
        ("li", "Gebruik de app"),
        ("li", "genest punt"),
        ("ol", "Eerste stap"),
        ("ol", "Tweede stap"),
        ("h2", "Leerplicht"),
        ("h3", "Diepe kop"),
        ("tr", "Wie | Wat"),
        ("tr", "Ouders | melden ziek"),
        ("h3", "Verlof"),
        ("li", "getypt punt"),
        ("li", "nog een getypt punt"),
    ]
    assert result.blocks[11].cells == ["Ouders", "melden ziek"]


def test_markdown_called_directly_with_front_matter(tmp_path):
    path = write(tmp_path, "kort.md", "---\ntitle: Afmelden\nlayout: page\n---\n# Afmelden\n\nBel de school.\n")
    result = extract_text(path, "md", None)
    assert result.id == "kort"
    assert pairs(result) == [("h1", "Afmelden"), ("p", "Bel de school.")]


# ---------------------------------------------------------------------------- HTML

PAGE = """
    <!DOCTYPE html>
    <html lang="nl"><head>
    <meta charset="windows-1252">
    <title>Ziekmelden en verlof | Basisschool De Linde</title>
    <script>var tracking = "geheim script";</script>
    <style>.x { color: red }</style>
    </head>
    <body class="page has-sidebar">
    <div id="cookie-notice"><p>Wij gebruiken cookies om de site te verbeteren.</p></div>
    <header class="site-header"><a href="/">Logo</a><nav><ul><li>Home</li><li>Ouders</li></ul></nav></header>
    <div class="breadcrumbs">Home &rsaquo; Ouders</div>
    <main>
    <article>
    <header><h1>Ziekmelden en verlof</h1></header>
    <p class="visually-hidden">Naar de inhoud</p>
    <p>Is uw kind <b>ziek</b>? Meld het <a href="/app">v\xf3\xf3r 8.15 uur</a> af.<br><br>Dat kan ook telefonisch.</p>
    <div>De co\xf6rdinator <span>houdt</span> het verzuim bij.</div>
    <h2>Afmelden</h2>
    <ul><li>Via de app<ul><li>onder het kopje afwezigheid</li></ul></li><li><p>Telefonisch</p></li></ul>
    <h4>Stappen</h4>
    <ol><li>De leerkracht belt</li><li>Gesprek met de intern begeleider</li></ol>
    <table><thead><tr><th>Wie</th><th>Wat</th></tr></thead>
    <tbody><tr><td><p>Ouders</p></td><td>mel<b>den</b> ziek</td></tr><tr><td></td><td> </td></tr></tbody></table>
    <div class="share-buttons">Deel deze pagina</div>
    </article>
    </main>
    <aside><h2>Nieuws</h2><p>Het laatste nieuws.</p></aside>
    <footer><p>Dorpsstraat 1, Ergens</p></footer>
    <noscript>Zet javascript aan</noscript>
    </body></html>
"""


@pytest.fixture
def page(tmp_path):
    path = tmp_path / "linde.html"
    path.write_bytes(textwrap.dedent(PAGE).lstrip("\n").encode("latin-1"))
    return extract(path)


def test_html_structure_from_main(page):
    assert page.format == "html"
    assert page.title == "Ziekmelden en verlof | Basisschool De Linde"
    assert pairs(page) == [
        ("h1", "Ziekmelden en verlof"),
        ("p", "Is uw kind ziek? Meld het vóór 8.15 uur af."),
        ("p", "Dat kan ook telefonisch."),
        ("p", "De coördinator houdt het verzuim bij."),
        ("h2", "Afmelden"),
        ("li", "Via de app"),
        ("li", "onder het kopje afwezigheid"),
        ("li", "Telefonisch"),
        ("h3", "Stappen"),
        ("ol", "De leerkracht belt"),
        ("ol", "Gesprek met de intern begeleider"),
        ("tr", "Wie | Wat"),
        ("tr", "Ouders | melden ziek"),
    ]
    assert page.blocks[-1].cells == ["Ouders", "melden ziek"]


def test_html_page_chrome_does_not_leak(page):
    everything = " ".join(b.text for b in page.blocks)
    for chrome in ("geheim", "cookies", "Logo", "Home", "Nieuws", "Dorpsstraat", "Deel deze", "Naar de inhoud",
                   "javascript", "color"):
        assert chrome not in everything


def test_html_without_main_uses_body_and_first_h1_as_title(tmp_path):
    path = tmp_path / "oud.htm"
    path.write_text(textwrap.dedent("""
        <html><body>
        <div class="menu"><a href="/">Start</a> <a href="/ouders">Ouders</a></div>
        <table width="100%"><tr><td>
          <h1>Verlof aanvragen</h1>
          <p>Vraag verlof minstens acht weken vooraf aan bij de directeur.</p>
        </td></tr></table>
        <p>&bull; Eerste punt<br>&bull; Tweede punt</p>
        Losse tekst in de body.
        </body></html>
    """), encoding="utf-8")
    result = extract_html(path, None)
    assert result.title == "Verlof aanvragen"
    assert pairs(result) == [
        ("h1", "Verlof aanvragen"),
        ("p", "Vraag verlof minstens acht weken vooraf aan bij de directeur."),
        ("li", "Eerste punt"),
        ("li", "Tweede punt"),
        ("p", "Losse tekst in de body."),
    ]


def test_html_chrome_class_on_a_wrapper_keeps_the_content(tmp_path):
    path = tmp_path / "wrapper.html"
    path.write_text(
        "<html><body><div class='site nav-open'><div class='content'>"
        "<h2>Te laat komen</h2><p>Wie te laat komt, meldt zich bij de conci\u00ebrge.</p>"
        "</div><div class='nav'>Menu</div></div></body></html>", encoding="utf-8")
    assert pairs(extract(path)) == [
        ("h2", "Te laat komen"), ("p", "Wie te laat komt, meldt zich bij de conci\u00ebrge.")]
