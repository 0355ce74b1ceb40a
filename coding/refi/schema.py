"""The REFI-QDA namespaces, our origin string, and validation against the published schemas."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
ORIGIN = "interview-coding 0.1 (Django)"

_SCHEMAS = Path(__file__).resolve().parent / "schemas"


@cache
def _schema(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(_SCHEMAS / name), parser))


def project_schema() -> etree.XMLSchema:
    return _schema("Project.xsd")


def codebook_schema() -> etree.XMLSchema:
    return _schema("Codebook.xsd")


def schema_errors(xml: bytes, *, codebook: bool = False, limit: int = 5) -> list[str]:
    """Validation errors of an XML document (already known to be free of DTDs/entities)."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
    )
    try:
        document = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        return [str(exc)]
    schema = codebook_schema() if codebook else project_schema()
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in list(schema.error_log)[:limit]]
