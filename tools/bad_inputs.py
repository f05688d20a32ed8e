#!/usr/bin/env python3
"""Make files that a protocol reader must refuse or survive, for the extractor tests.

    python tools/bad_inputs.py OUTDIR

Every file is generated (nothing is downloaded) and deterministic, and the whole set
takes a second or two:

- ``empty.pdf``: 0 bytes
- ``truncated.pdf``: the first half of a valid PDF (no xref, no trailer)
- ``random.pdf``: random bytes with a fixed seed
- ``encrypted.pdf``: needs the user password ``geheim`` to open
- ``notzip.docx``: plain text named .docx
- ``zipbomb.docx``: 1 MiB on disk, ``word/document.xml`` inflates to 1 GiB
- ``unsupported.xyz``: an unknown extension
- ``garbage_text.pdf``: looks like normal Dutch text, but its text layer maps every
  letter to a private-use character (U+E0xx)
- ``long500.pdf``: 500 pages of plain protocol-like text with header and footer
"""
from __future__ import annotations

import random
import re
import struct
import sys
import zlib
from io import BytesIO
from pathlib import Path

ENCRYPTED_PASSWORD = "geheim"
ZIPBOMB_INFLATED_SIZE = 1 << 30  # 1 GiB
LONG_PDF_PAGES = 500

_SAMPLE_LINES = [
    "Ouders melden hun kind vóór half negen ziek bij de administratie.",
    "De mentor neemt dezelfde dag contact op als een leerling zonder bericht afwezig is.",
    "Bij zestien uur ongeoorloofd verzuim in vier weken meldt de school bij leerplicht.",
    "Verlof buiten de schoolvakanties vraagt u acht weken van tevoren aan.",
    "De jeugdarts wordt ingeschakeld bij zorgwekkend ziekteverzuim.",
    "Te laat komen wordt geregistreerd; bij de derde keer volgt een gesprek.",
    "De directeur beslist over verlof tot en met tien schooldagen.",
    "Tegen een besluit over verlof kunt u binnen zes weken bezwaar maken.",
]


def make_bad_inputs(out_dir: str | Path) -> dict[str, Path]:
    """Write all bad inputs into ``out_dir``; return {file name: path}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    makers = {
        "empty.pdf": lambda: b"",
        "truncated.pdf": truncated_pdf_bytes,
        "random.pdf": lambda: random.Random(20251124).randbytes(64 * 1024),
        "encrypted.pdf": encrypted_pdf_bytes,
        "notzip.docx": lambda: "Dit is geen Word-bestand maar gewone tekst.\n".encode("utf-8") * 20,
        "zipbomb.docx": zipbomb_docx_bytes,
        "unsupported.xyz": lambda: b"XYZ1\x00\x01 onbekend bestandsformaat\n",
        "garbage_text.pdf": garbage_text_pdf_bytes,
        "long500.pdf": long_pdf_bytes,
    }
    paths = {}
    for name, make in makers.items():
        paths[name] = out_dir / name
        paths[name].write_bytes(make())
    return paths


def _sample_pdf_bytes(pages: int = 3, **canvas_kwargs) -> bytes:
    """A small valid text PDF (canvas API: fast and predictable)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, **canvas_kwargs)
    for page in range(1, pages + 1):
        _draw_protocol_page(canvas, page, pages, "Verzuimprotocol testbestand")
    canvas.save()
    return buffer.getvalue()


def _draw_protocol_page(canvas, page: int, pages: int, title: str, lines: int = 40) -> None:
    width, height = canvas._pagesize
    canvas.setFont("Helvetica", 8.5)
    canvas.drawString(57, height - 36, title)
    canvas.drawCentredString(width / 2, 28, f"Pagina {page} van {pages}")
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(57, height - 70, f"{page}. Afspraken over afwezigheid, deel {page}")
    text = canvas.beginText(57, height - 95)
    text.setFont("Helvetica", 10.5)
    text.setLeading(15)
    for i in range(lines):
        text.textLine(_SAMPLE_LINES[(page + i) % len(_SAMPLE_LINES)])
    canvas.drawText(text)
    canvas.showPage()


def truncated_pdf_bytes() -> bytes:
    data = _sample_pdf_bytes(pages=4)
    return data[: len(data) // 2]


def encrypted_pdf_bytes() -> bytes:
    from reportlab.lib.pdfencrypt import StandardEncryption

    encryption = StandardEncryption(ENCRYPTED_PASSWORD, ownerPassword="eigenaar-geheim", canPrint=0)
    return _sample_pdf_bytes(pages=2, encrypt=encryption)


def long_pdf_bytes(pages: int = LONG_PDF_PAGES) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    for page in range(1, pages + 1):
        _draw_protocol_page(canvas, page, pages, "Verzuimprotocol Scholengroep Lange Adem 2025-2026")
    canvas.save()
    return buffer.getvalue()


# ----------------------------------------------------------------- zip bomb


def zipbomb_docx_bytes(inflated_size: int = ZIPBOMB_INFLATED_SIZE) -> bytes:
    """A .docx whose document.xml inflates to ``inflated_size`` bytes.

    Compressing 1 GiB would take seconds, so one 1 MiB chunk is deflated with a full
    flush (which resets the compressor) and the identical compressed piece is
    repeated: a valid deflate stream. The sizes in the zip headers are honest, so a
    reader that checks ``ZipInfo.file_size`` before inflating can refuse it.
    """
    chunk_size = 1 << 20
    if inflated_size % chunk_size:
        raise ValueError("inflated_size must be a multiple of 1 MiB")
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>"
    ).encode()
    # The first chunk carries the XML start, the rest is the same letter over and over.
    first = head + b"a" * (chunk_size - len(head))
    repeated = b"a" * chunk_size
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first_piece = compressor.compress(first) + compressor.flush(zlib.Z_FULL_FLUSH)
    piece = compressor.compress(repeated) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)
    count = inflated_size // chunk_size - 1
    deflated = first_piece + piece * count + tail
    crc = zlib.crc32(first)
    for _ in range(count):
        crc = zlib.crc32(repeated, crc)
    members = [
        _ZipMember("[Content_Types].xml", _CONTENT_TYPES.encode()),
        _ZipMember("_rels/.rels", _ROOT_RELS.encode()),
        _ZipMember("word/document.xml", deflated, crc=crc, size=inflated_size, compressed=True),
    ]
    return _write_zip(members)


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)


class _ZipMember:
    def __init__(self, name: str, data: bytes, crc: int | None = None, size: int | None = None, compressed: bool = False):
        self.name = name.encode()
        if compressed:
            self.data, self.crc, self.size = data, crc, size
        else:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            self.data = compressor.compress(data) + compressor.flush()
            self.crc, self.size = zlib.crc32(data), len(data)


def _write_zip(members: list[_ZipMember]) -> bytes:
    """Plain (non-zip64) zip writer: zipfile cannot store already-deflated data."""
    out = BytesIO()
    central = BytesIO()
    dos_time, dos_date = 0, (2025 - 1980) << 9 | 1 << 5 | 1
    for member in members:
        offset = out.tell()
        fields = (20, 0, 8, dos_time, dos_date, member.crc, len(member.data), member.size, len(member.name))
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + member.name + member.data)
        central.write(
            struct.pack("<IH", 0x02014B50, 20)
            + struct.pack("<HHHHHIIIHHHHHII", *fields, 0, 0, 0, 0, 0, offset)
            + member.name
        )
    start = out.tell()
    directory = central.getvalue()
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), start, 0))
    return out.getvalue()


# ----------------------------------------------------------------- garbage text layer


def garbage_text_pdf_bytes() -> bytes:
    """Normal-looking text whose text layer maps every letter to a private-use code.

    Broken converters and some "protected" PDFs ship a ToUnicode map that points
    into the private use area: the page shows the right glyphs (from the embedded
    font) but extractors get U+E0xx characters. reportlab writes its ToUnicode CMap
    uncompressed with ``pageCompression=0``, so it is swapped in place for one of
    the same length. Without a system TrueType font, the fallback is a Helvetica
    page with a scrambled encoding (it then also renders scrambled).
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    font_file = _find_ttf()
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=0)
    if font_file is not None:
        pdfmetrics.registerFont(TTFont("GarbageSans", str(font_file)))
        font = "GarbageSans"
    else:
        font = _scrambled_helvetica()
    width, height = A4
    text = canvas.beginText(57, height - 80)
    text.setFont(font, 11)
    text.setLeading(16)
    for i in range(30):
        text.textLine(_SAMPLE_LINES[i % len(_SAMPLE_LINES)])
    canvas.drawText(text)
    canvas.showPage()
    canvas.save()
    data = buffer.getvalue()
    if font_file is not None:
        data = _replace_tounicode_maps(data)
    return data


_PRIVATE_USE_CMAP = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<00> <FF>
endcodespacerange
1 beginbfchar
<20> <0020>
endbfchar
3 beginbfrange
<00> <1F> <E000>
<21> <7F> <E021>
<80> <FF> <E080>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


def _replace_tounicode_maps(data: bytes) -> bytes:
    """Swap each ToUnicode stream for the private-use map, padded to the same length
    so the cross-reference offsets stay valid."""
    for number in set(re.findall(rb"/ToUnicode (\d+) 0 R", data)):
        header = re.search(rb"\n" + number + rb" 0 obj\n<<\n/Length (\d+)\n>>\nstream\n", data)
        if header is None:
            raise RuntimeError("unexpected ToUnicode layout from reportlab")
        length, start = int(header.group(1)), header.end()
        if length < len(_PRIVATE_USE_CMAP):
            raise RuntimeError("ToUnicode map too short to replace in place")
        data = data[:start] + _PRIVATE_USE_CMAP.ljust(length, b" ") + data[start + length :]
    return data


def _find_ttf() -> Path | None:
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation2", "/usr/share/fonts/truetype/liberation"):
        for name in ("DejaVuSans.ttf", "LiberationSans-Regular.ttf"):
            if (Path(folder) / name).is_file():
                return Path(folder) / name
    return None


def _scrambled_helvetica() -> str:
    from reportlab.pdfbase import pdfmetrics

    letters = "abcdefghijklmnopqrstuvwxyz"
    shuffled = list(letters)
    random.Random(7).shuffle(shuffled)
    encoding = pdfmetrics.Encoding("ScrambledEncoding", "WinAnsiEncoding")
    for plain, other in zip(letters, shuffled):
        encoding[ord(plain)] = other
    pdfmetrics.registerEncoding(encoding)
    pdfmetrics.registerFont(pdfmetrics.Font("Helvetica-Scrambled", "Helvetica", "ScrambledEncoding"))
    return "Helvetica-Scrambled"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python tools/bad_inputs.py OUTDIR", file=sys.stderr)
        return 2
    for name, path in make_bad_inputs(argv[0]).items():
        print(f"{path}\t{path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
