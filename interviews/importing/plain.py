"""Plain text and Markdown in whatever encoding the researcher's tool wrote.

Decoding order: a byte-order mark decides (UTF-8, UTF-16, UTF-32); then strict
UTF-8; then UTF-16 without a BOM when every other byte is NUL; then
charset-normalizer's best guess (this is how cp1252 and cp1256 files are
told apart). Text that still holds control characters is binary in disguise.
"""

import codecs
import re

from charset_normalizer import from_bytes

from ..text import normalise_text
from .document import ParsedDocument
from .limits import ImportRejected, limits

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# C0 controls other than tab, newline, form feed and carriage return, and DEL.
_LATIN_BLOCK = re.compile(r"Latin|Punctuation|Currency|Control|Symbol")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _check(data.decode(encoding))
            except UnicodeDecodeError:
                raise ImportRejected("The file says it is Unicode text but is damaged.") from None
    try:
        return _check(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    sample = data[:4096]
    if len(sample) >= 4:
        if sample[1::2].count(0) > len(sample) * 0.4 and sample[0::2].count(0) == 0:
            try:
                return _check(data.decode("utf-16-le"))
            except UnicodeDecodeError:
                pass
        if sample[0::2].count(0) > len(sample) * 0.4 and sample[1::2].count(0) == 0:
            try:
                return _check(data.decode("utf-16-be"))
            except UnicodeDecodeError:
                pass
    if b"\x00" in data:
        raise ImportRejected("This file holds binary data, not text.")
    best = from_bytes(data, cp_isolation=None).best()
    if best is None:
        raise ImportRejected("The text encoding of this file cannot be recognised; save it as UTF-8.")
    if best.encoding != "cp1252" and all(_LATIN_BLOCK.search(a) for a in best.alphabets):
        # Short Western text is often guessed as another Latin code page; Windows
        # Western (cp1252) is by far the most common one for these transcripts.
        try:
            return _check(data.decode("cp1252"))
        except UnicodeDecodeError:
            pass
    return _check(str(best))


def _check(text: str) -> str:
    controls = len(_CONTROL.findall(text[:100_000]))
    if controls > max(2, len(text[:100_000]) // 1000):
        raise ImportRejected("This file holds binary data, not text.")
    text = _CONTROL.sub("", text)
    if len(text) > limits().max_text_chars:
        raise ImportRejected(f"The text is longer than {limits().max_text_chars:,} characters.")
    return text


def parse(data: bytes) -> ParsedDocument:
    text = normalise_text(decode_text(data))
    if not text.strip():
        raise ImportRejected("The file contains no text.")
    return ParsedDocument(text=text)
