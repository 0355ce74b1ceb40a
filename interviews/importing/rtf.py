"""Rich Text Format through striprtf (regex based: runs only inside the parse sandbox)."""

from ..text import normalise_text
from .document import ParsedDocument
from .limits import ImportRejected


def parse(data: bytes) -> ParsedDocument:
    from striprtf.striprtf import rtf_to_text

    # RTF is 7-bit with \'xx and \uN escapes; latin-1 maps every byte without loss.
    raw = data.decode("latin-1")
    try:
        text = rtf_to_text(raw, errors="ignore")
    except Exception:
        raise ImportRejected("The RTF file is damaged and cannot be read.") from None
    text = normalise_text(text)
    if not text.strip():
        raise ImportRejected("The RTF file contains no text.")
    return ParsedDocument(text=text)
