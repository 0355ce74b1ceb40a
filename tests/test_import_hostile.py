"""Hostile and broken files: each gets a clear reason; nothing is extracted, fetched or half-written."""

import io
import random
import socket
import string
import zipfile
import zlib

import pytest

from interviews.importing import ImportRejected, parse_upload
from interviews.importing.limits import read_zip_safely

from .import_helpers import (
    _pdf,
    make_docx,
    make_encrypted_pdf,
    make_image_only_pdf,
    make_odt,
    make_zip,
    plain_text,
    replace_member,
)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test (BI1/BI8: no outbound connections)."""
    attempts = []

    def guard(*args, **kwargs):
        attempts.append(args)
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", guard)
    return attempts


def rejected(name, data, **kwargs) -> str:
    with pytest.raises(ImportRejected) as info:
        parse_upload(name, data, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("name", ["a.txt", "a.docx", "a.pdf", "a.vtt"])
def test_empty_file(name):
    assert rejected(name, b"") == "The file is empty."


def test_whitespace_only_text_file():
    assert "no text" in rejected("a.txt", b"  \n\n\t ")


@pytest.mark.parametrize(
    "data",
    [PNG, b"\x7fELF\x02\x01" + bytes(100), bytes(range(256)) * 4, make_docx()],
    ids=["png", "elf", "bytes", "docx"],
)
def test_binary_disguised_as_txt(data):
    assert "binary" in rejected("notes.txt", data)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.docx", b"<html><script>alert(1)</script></html>"),
        ("a.odt", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"),
        ("a.pdf", b"<html>%PDF</html>" + bytes(2000)),
        ("a.rtf", PNG),
    ],
)
def test_magic_bytes_must_match_the_extension(name, data):
    assert "not a real" in rejected(name, data)


def test_pdf_header_within_the_first_kilobyte_is_accepted_as_pdf():
    assert "damaged" in rejected("a.pdf", b"junk%PDF-1.4 nothing else")


def test_corrupt_docx():
    data = make_docx()
    assert "damaged" in rejected("a.docx", data[: len(data) // 2])


def test_docx_without_a_word_document_inside():
    assert "no Word document" in rejected("a.docx", make_zip({"hello.txt": b"hi"}))


def test_odt_with_the_wrong_mimetype():
    assert "not a real .odt" in rejected("a.odt", replace_member(make_odt(), "mimetype", b"application/zip"))


def test_encrypted_pdf():
    assert (
        rejected("a.pdf", make_encrypted_pdf())
        == "The PDF is encrypted: remove the password, then upload it again."
    )


def test_image_only_pdf_asks_for_ocr():
    assert rejected("a.pdf", make_image_only_pdf()).startswith("no text layer: OCR first")


def test_oversize_file(settings):
    settings.IMPORT_LIMITS = {"max_file_bytes": 1000}
    assert "larger than the limit" in rejected("a.txt", b"a" * 1001)


CANARY_PATH_TEXT = "canary-file-content-7f3a"

XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{path}">]>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?>\n<!DOCTYPE w:document SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>'
)
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + ']>\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
)
# Pseudo-random letters, so the zip ratio check does not catch it before the DTD check does.
_NOISE = "".join(random.Random(7).choices(string.ascii_letters, k=20000))
QUADRATIC = (
    '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY a "' + _NOISE + '">]>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>" + "&a;" * 2000 + "</w:t></w:r></w:p></w:body></w:document>"
)


@pytest.mark.parametrize("payload", ["xxe", "external_dtd", "laughs", "quadratic", "xxe_utf16"])
@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_xml_attacks_inside_documents_are_refused(tmp_path, no_network, fmt, payload):
    canary = tmp_path / "canary.txt"
    canary.write_text(CANARY_PATH_TEXT)
    xml = {
        "xxe": XXE,
        "xxe_utf16": XXE,
        "external_dtd": EXTERNAL_DTD,
        "laughs": LAUGHS,
        "quadratic": QUADRATIC,
    }[payload].format(path=canary)
    encoded = (
        xml.replace('version="1.0"?', 'version="1.0" encoding="UTF-16"?').encode("utf-16")
        if (payload == "xxe_utf16")
        else xml.encode()
    )
    if fmt == "docx":
        data = replace_member(make_docx(), "word/document.xml", encoded)
    else:
        data = replace_member(make_odt(), "content.xml", encoded)
    reason = rejected(f"a.{fmt}", data)
    assert "document type or entity declarations" in reason
    assert CANARY_PATH_TEXT not in reason
    assert no_network == []


def _bomb(size=30 * 1024 * 1024) -> bytes:
    return make_zip({"word/document.xml": b"\0" * size, "[Content_Types].xml": b"<x/>"})


def test_zip_bomb_inside_docx_is_refused_before_extraction():
    assert "zip bomb" in rejected("a.docx", _bomb())


def test_zip_bomb_upload_is_refused_before_extraction():
    with pytest.raises(ImportRejected, match="zip bomb"):
        read_zip_safely(make_zip({"a.txt": b"\0" * (30 * 1024 * 1024)}))


def test_zip_declaring_more_than_the_total_limit(settings):
    settings.IMPORT_LIMITS = {"max_zip_total_bytes": 100_000}
    members = {f"{i}.txt": bytes(range(256)) * 100 for i in range(10)}  # 256 kB, incompressible-ish
    with pytest.raises(ImportRejected, match="unpack to more than"):
        read_zip_safely(make_zip(members, compression=zipfile.ZIP_STORED))


def test_zip_with_too_many_entries(settings):
    settings.IMPORT_LIMITS = {"max_zip_entries": 10}
    with pytest.raises(ImportRejected, match="more than 10 entries"):
        read_zip_safely(make_zip({f"{i}.txt": b"x" for i in range(11)}))


def _lying_zip() -> bytes:
    """A member that declares 100 bytes but inflates to 1 MB (headers edited after writing)."""
    payload = bytes(range(256)) * 4096
    data = bytearray(make_zip({"a.txt": payload}))
    real = len(payload).to_bytes(4, "little")
    fake = (100).to_bytes(4, "little")
    assert data.count(real) == 2  # local header and central directory
    data = data.replace(real, fake)
    return bytes(data)


def test_zip_with_lying_size_headers_is_refused(settings):
    settings.IMPORT_LIMITS = {"max_zip_ratio": 100_000}  # let the declared ratio through
    with pytest.raises(ImportRejected):
        read_zip_safely(_lying_zip())


def _zip_with_raw_names(entries) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content, mode in entries:
            info = zipfile.ZipInfo(name)
            if mode:
                info.external_attr = mode << 16
            archive.writestr(info, content)
    return out.getvalue()


@pytest.mark.parametrize(
    "entry",
    [
        ("../../evil.txt", b"x", 0),
        ("/tmp/evil.txt", b"x", 0),  # noqa: S108 - the attack under test
        ("C:\\evil.txt", b"x", 0),
        ("dir/../../evil.txt", b"x", 0),
        ("link.txt", b"/etc/passwd", 0o120777),
    ],
    ids=["dotdot", "absolute", "drive", "nested-dotdot", "symlink"],
)
def test_zip_slip_absolute_and_symlink_members_are_refused(tmp_path, entry):
    before = set(tmp_path.parent.iterdir())
    with pytest.raises(ImportRejected, match="unsafe path|symbolic link"):
        read_zip_safely(_zip_with_raw_names([("ok.txt", b"fine", 0), entry]))
    assert set(tmp_path.parent.iterdir()) == before


def test_docx_with_a_symlink_member_is_refused():
    source = zipfile.ZipFile(io.BytesIO(make_docx()))
    entries = [(i.filename, source.read(i), 0) for i in source.infolist()]
    entries.append(("word/media/link", b"/etc/passwd", 0o120777))
    assert "symbolic link" in rejected("a.docx", _zip_with_raw_names(entries))


def _slow_pdf(ops: int) -> bytes:
    stream = b"BT /F1 12 Tf 72 720 Td " + b"(word word word) Tj 1 0 Td " * ops + b"ET"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def test_a_pdf_that_takes_too_long_is_stopped(settings):
    settings.IMPORT_LIMITS = {"parse_seconds": 1}
    assert "longer than 1 seconds" in rejected("slow.pdf", _slow_pdf(150_000))


def test_a_pdf_stream_that_inflates_enormously_is_contained():
    bomb = zlib.compress(b"BT " + b" " * 300_000_000 + b" ET", 9)
    data = _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            f"<< /Length {len(bomb)} /Filter /FlateDecode >>\nstream\n".encode() + bomb + b"\nendstream",
        ]
    )
    # Whatever pypdf makes of it (its own inflate limit, our memory ceiling), the
    # file is refused and the test process never holds the inflated stream.
    assert rejected("bomb.pdf", data)


def test_the_parse_sandbox_has_a_memory_ceiling(settings):
    settings.IMPORT_LIMITS = {"parse_memory_bytes": 16 * 1024 * 1024}  # too little even to start
    assert "memory" in rejected("a.docx", make_docx())


def test_plain_text_is_not_mistaken_for_binary():
    assert parse_upload("a.txt", plain_text().encode()).text.startswith("Interviewer:")


def test_python_docx_parser_does_not_expand_entities_even_without_our_check(tmp_path, no_network):
    """Defence in depth: what python-docx's own lxml parser does with entities (checked, not assumed)."""
    from docx.oxml.parser import oxml_parser
    from lxml import etree

    canary = tmp_path / "canary.txt"
    canary.write_text(CANARY_PATH_TEXT)
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{canary}">'
        '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><d>&xxe;&b;</d>'
    ).encode()
    out = etree.tostring(etree.fromstring(xml, oxml_parser))
    assert CANARY_PATH_TEXT.encode() not in out and b"aaaa" not in out
    assert no_network == []
