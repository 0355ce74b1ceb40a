"""LibreOffice/OpenDocument text (.odt) through odfpy, after the container checks in ``limits``.

odfpy parses with ``defusedxml.sax`` and external entities off; ``reject_dtd``
refuses any member with a DTD first. A bold leading span (by automatic style
name) is recorded as a speaker label candidate.
"""

import io

from .document import Builder, ParsedDocument
from .limits import ImportRejected, read_zip_safely, reject_dtd, rezip

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


def parse(data: bytes) -> ParsedDocument:
    members = read_zip_safely(data, what="OpenDocument file")
    reject_dtd(members, what="OpenDocument file")
    if members.get("mimetype", b"").strip() != ODT_MIMETYPE or "content.xml" not in members:
        raise ImportRejected("This is not a real .odt text document.")
    from odf import teletype
    from odf.namespaces import STYLENS, TEXTNS
    from odf.opendocument import load

    try:
        document = load(io.BytesIO(rezip(members)))
    except Exception:  # odfpy and the SAX parser raise many kinds of errors on bad input
        raise ImportRejected("The OpenDocument file is damaged and cannot be read.") from None

    bold_styles = set()
    for style in document.automaticstyles.childNodes:
        for prop in getattr(style, "childNodes", []):
            if prop.qname[1] == "text-properties":
                weight = prop.attributes.get(
                    ("urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0", "font-weight")
                )
                if weight == "bold":
                    bold_styles.add(style.getAttrNS(STYLENS, "name"))

    builder = Builder()
    for element in _blocks(document.text):
        line = teletype.extractText(element)
        prefix = ""
        for child in element.childNodes:
            if child.nodeType == child.TEXT_NODE:
                if child.data.strip():
                    break
                continue
            if child.qname == (TEXTNS, "span") and child.getAttrNS(TEXTNS, "style-name") in bold_styles:
                prefix += teletype.extractText(child)
                continue
            break
        builder.add_line(line, bold_prefix=prefix)
    return builder.build()


def _blocks(node):
    """Paragraphs and headings in document order (including those nested in lists and tables)."""
    from odf.namespaces import TEXTNS

    for child in node.childNodes:
        if child.nodeType != child.ELEMENT_NODE:
            continue
        if child.qname in ((TEXTNS, "p"), (TEXTNS, "h")):
            yield child
        else:
            yield from _blocks(child)
