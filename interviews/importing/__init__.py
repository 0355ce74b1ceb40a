"""Reading uploaded transcripts: one module per format, safety limits, speaker turns.

``parse_upload(name, data)`` is the entry point: it checks the file (extension,
size, magic bytes), parses it (container and binary formats in a limited
subprocess, see ``sandbox``) and returns a ``ParsedDocument`` whose text is
already in stored form. Anything wrong raises ``ImportRejected`` with a reason
a researcher can act on.
"""

from .document import Cue, ParsedDocument
from .limits import SUPPORTED, ImportRejected, check_upload


def parse_upload(name: str, data: bytes, *, sandbox: bool = True) -> ParsedDocument:
    from .formats import PARSERS, SANDBOXED
    from .sandbox import parse_in_sandbox

    ext = check_upload(name, data)
    if sandbox and ext in SANDBOXED:
        document = parse_in_sandbox(ext, data)
    else:
        document = PARSERS[ext](data)
    if not document.text.strip():
        raise ImportRejected("The file contains no text.")
    return document


__all__ = ["SUPPORTED", "Cue", "ImportRejected", "ParsedDocument", "check_upload", "parse_upload"]
