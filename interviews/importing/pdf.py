"""PDF text layer through pypdf (only inside the parse sandbox: CPU, memory and wall-time limits).

A PDF without extractable text is a scan: the researcher is told to OCR it first.
"""

import io

from .document import Builder, ParsedDocument
from .limits import ImportRejected, limits

NO_TEXT = "no text layer: OCR first (this PDF holds only images of pages)."


def parse(data: bytes) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # An empty user password only restricts printing or copying: readable.
            try:
                if not reader.decrypt(""):
                    raise FileNotDecryptedError("password")
            except (FileNotDecryptedError, NotImplementedError):
                raise ImportRejected("The PDF is encrypted: remove the password, then upload it again.")
        pages = reader.pages
        if len(pages) > limits().max_pdf_pages:
            raise ImportRejected(f"The PDF has more than {limits().max_pdf_pages} pages.")
        builder = Builder()
        for page in pages:
            for line in (page.extract_text() or "").splitlines():
                builder.add_line(line)
    except ImportRejected:
        raise
    except (PdfReadError, FileNotDecryptedError, ValueError, KeyError, TypeError, IndexError, RecursionError):
        raise ImportRejected("The PDF is damaged and cannot be read.") from None
    document = builder.build()
    if len("".join(document.text.split())) < 20:
        raise ImportRejected(NO_TEXT)
    return document
