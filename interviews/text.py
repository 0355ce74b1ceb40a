"""Pure functions over transcript text: its stored form and edits with offset mapping.

Offsets are Unicode code points of the NFC text, end exclusive.
"""

import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError


def normalise_text(text: str) -> str:
    """The stored form of a transcript: NFC, ``\\n`` line endings, no BOM."""
    text = text.replace("\ufeff", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class TextEdit:
    """Replace ``text[start:end]`` (code points of the current text) with ``replacement``."""

    start: int
    end: int
    replacement: str


def _map_start(edits: list[TextEdit], pos: int) -> int:
    """Where a range starting at ``pos`` starts after the edits.

    An insertion exactly at the start goes before the range; a start inside a
    replaced span moves to the start of the replacement.
    """
    shift = 0
    for edit in edits:
        if edit.end <= pos:
            shift += len(edit.replacement) - (edit.end - edit.start)
        elif edit.start <= pos:
            return edit.start + shift
        else:
            break
    return pos + shift


def _map_end(edits: list[TextEdit], pos: int) -> int:
    """Where a range ending (exclusive) at ``pos`` ends after the edits.

    An insertion exactly at the end goes after the range; an end inside a
    replaced span moves to the end of the replacement.
    """
    shift = 0
    for edit in edits:
        if edit.end < pos or (edit.end == pos and edit.start < edit.end):
            shift += len(edit.replacement) - (edit.end - edit.start)
        elif edit.start < pos:
            return edit.start + shift + len(edit.replacement)
        else:
            break
    return pos + shift


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    parts, cursor = [], 0
    for edit in edits:
        parts.append(text[cursor : edit.start])
        parts.append(edit.replacement)
        cursor = edit.end
    parts.append(text[cursor:])
    return "".join(parts)


def remap_range(edits: list[TextEdit], start: int, end: int) -> tuple[int, int, bool]:
    """Map a range through the edits; the flag says whether its text changed."""
    touched = any(
        (e.start < end and e.end > start) if e.start < e.end else (start < e.start < end) for e in edits
    )
    return _map_start(edits, start), _map_end(edits, end), touched


def clean_edits(text_length: int, edits: list[TextEdit]) -> list[TextEdit]:
    edits = sorted(edits, key=lambda e: (e.start, e.end))
    previous_end = -1
    for n, edit in enumerate(edits, 1):
        if not (0 <= edit.start <= edit.end <= text_length):
            raise ValidationError(
                {"edits": f"Edit {n}: the range {edit.start}–{edit.end} is outside the text."}
            )
        if edit.start < previous_end or (edit.start == previous_end and edit.start == edit.end):
            raise ValidationError({"edits": f"Edit {n} overlaps another edit."})
        previous_end = edit.end
    return [TextEdit(e.start, e.end, normalise_text(e.replacement)) for e in edits]
