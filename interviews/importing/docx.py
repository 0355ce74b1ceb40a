"""Word (.docx) through python-docx, after the container checks in ``limits``.

python-docx parses with lxml (``resolve_entities=False``, no DTD loading, no
network), and ``reject_dtd`` has already refused any member with a DTD, so
neither entity expansion nor external entities reach it. It only ever sees a
re-packed zip of members that passed the checks. A bold run at the start of a
paragraph is recorded as a speaker label candidate.
"""

import io

from .document import Builder, ParsedDocument
from .limits import ImportRejected, read_zip_safely, reject_dtd, rezip


def parse(data: bytes) -> ParsedDocument:
    members = read_zip_safely(data, what="Word file")
    reject_dtd(members, what="Word file")
    if "word/document.xml" not in members or "[Content_Types].xml" not in members:
        raise ImportRejected("This is not a real .docx file (it has no Word document inside).")
    import docx  # imported here: only the sandbox process needs lxml and python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(rezip(members)))
    except (PackageNotFoundError, KeyError, ValueError, SyntaxError):
        raise ImportRejected("The Word file is damaged and cannot be read.") from None
    except Exception as exc:  # lxml raises its own XMLSyntaxError family
        if type(exc).__module__.startswith("lxml"):
            raise ImportRejected("The Word file is damaged and cannot be read.") from None
        raise
    builder = Builder()
    for paragraph in _paragraphs(document):
        runs = list(paragraph.runs)
        bold = []
        for run in runs:
            if run.bold and run.text:
                bold.append(run.text)
            elif run.text.strip():
                break
            else:
                bold.append(run.text)
        text = paragraph.text
        builder.add_line(text, bold_prefix="".join(bold) if bold and any(r.bold for r in runs) else "")
    return builder.build()


def _paragraphs(document):
    """Body paragraphs and those in table cells, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block
        elif isinstance(block, Table):
            for row in block.rows:
                for cell in row.cells:
                    yield from cell.paragraphs
