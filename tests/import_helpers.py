"""Build real transcript files of every format in memory, for the import tests."""

import io
import zipfile

INTERVIEW_LINES = [
    ("Interviewer", "Where did you cross the border?"),
    ("P07", "Near the river, with my brother. قال لي: لا تخف."),
    ("Interviewer", "How many times were you pushed back?"),
    ("P07", "Seven times 🌲 in the forest. Em ji Şengalê hatin."),
]


def plain_text(lines=INTERVIEW_LINES) -> str:
    return "\n".join(f"{who}: {what}" for who, what in lines) + "\n"


def make_docx(lines=INTERVIEW_LINES, *, bold_names=False) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Interview transcript", level=1)
    for who, what in lines:
        paragraph = document.add_paragraph()
        if bold_names:
            run = paragraph.add_run(who)
            run.bold = True
            paragraph.add_run(" " + what)
        else:
            paragraph.add_run(f"{who}: {what}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_odt(lines=INTERVIEW_LINES, *, bold_names=False) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.style import Style, TextProperties
    from odf.text import P, Span

    document = OpenDocumentText()
    bold = Style(name="BoldName", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    document.automaticstyles.addElement(bold)
    for who, what in lines:
        paragraph = P()
        if bold_names:
            paragraph.addElement(Span(stylename=bold, text=who))
            paragraph.addText(" " + what)
        else:
            paragraph.addText(f"{who}: {what}")
        document.text.addElement(paragraph)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def make_rtf(lines=INTERVIEW_LINES) -> bytes:
    def esc(s: str) -> str:
        out = []
        for ch in s:
            code = ord(ch)
            if ch in "\\{}":
                out.append("\\" + ch)
            elif code < 128:
                out.append(ch)
            elif code < 0x10000:
                out.append(f"\\u{code if code < 32768 else code - 65536}?")
            else:  # surrogate pair
                code -= 0x10000
                for unit in (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)):
                    out.append(f"\\u{unit - 65536}?")
        return "".join(out)

    body = "".join(f"{esc(who)}: {esc(what)}\\par\n" for who, what in lines)
    return ("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\f0\\pard\n" + body + "}").encode("ascii")


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def make_pdf(lines=(("Interviewer", "Where did you cross?"), ("P07", "Near the river, with my brother."))):
    """A minimal hand-written PDF with a real text layer (ASCII lines, Helvetica)."""
    ops = [b"BT /F1 12 Tf 72 720 Td 14 TL"]
    for who, what in lines:
        line = f"{who}: {what}".replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({line}) Tj T*".encode("latin-1"))
    ops.append(b"ET")
    stream = b"\n".join(ops)
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


def make_image_only_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_vtt() -> bytes:
    return (
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:04.500\n<v Interviewer>Where did you cross?\n\n"
        "00:00:05.000 --> 00:00:09.250\n<v P07>Near the river.\n\n"
        "00:00:09.500 --> 00:00:12.000\n<v P07>With my brother 🌲.\n"
    ).encode()


def make_srt() -> bytes:
    return (
        b"1\n00:00:01,000 --> 00:00:04,500\nInterviewer: Where did you cross?\n\n"
        b"2\n00:00:05,000 --> 00:00:09,250\nP07: Near the river.\n\n"
        b"3\n00:00:09,500 --> 00:01:02,000\nP07: With my brother.\n"
    )


def make_zip(members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def replace_member(container: bytes, name: str, content: bytes) -> bytes:
    """A copy of a docx/odt with one member's content replaced."""
    source = zipfile.ZipFile(io.BytesIO(container))
    members = {info.filename: source.read(info) for info in source.infolist()}
    members[name] = content
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return out.getvalue()
