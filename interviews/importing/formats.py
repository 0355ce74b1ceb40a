"""Extension → parser. Each parser takes the upload's bytes and returns a ParsedDocument."""

from . import docx, odt, pdf, plain, rtf, srt, vtt

PARSERS = {
    ".txt": plain.parse,
    ".md": plain.parse,
    ".srt": srt.parse,
    ".vtt": vtt.parse,
    ".docx": docx.parse,
    ".odt": odt.parse,
    ".rtf": rtf.parse,
    ".pdf": pdf.parse,
}
SANDBOXED = {".docx", ".odt", ".rtf", ".pdf"}
