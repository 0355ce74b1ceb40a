"""Positions in other tools' files -> code point offsets of our stored text.

A REFI-QDA selection is a pair of positions into a source's ``.txt`` file. The
spec says "Unicode code points", but real tools differ (see
``../shared/refi-qda/NOTES.md`` §3):

* NVivo counts UTF-16 code units (an emoji counts 2), does not count the BOM,
  and counts CRLF as 2;
* ATLAS.ti writes CRLF into the file but counts it as 1;
* everyone else (QualCoder, MAXQDA, qc, us) counts code points of the file as
  stored, BOM excluded.

Import happens in two steps, each a pure function:

1. ``origin_to_raw``: the tool's unit -> code point index into the file text
   (after its leading BOM is removed);
2. ``NormalisedText``: the file text -> our stored form
   (``interviews.text.normalise_text``: NFC, ``\\n`` line endings, no BOM),
   with a map from raw positions to stored positions.

A position that falls inside something that became one character (the two
halves of a surrogate pair, a CRLF, a base letter and its combining accent
composed by NFC) is rounded outwards for a selection: its start moves to the
beginning and its end to the end of that character -- except a CRLF, where an
end between CR and LF excludes the line break.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from interviews.text import normalise_text

UTF16 = "utf16"
CRLF_AS_ONE = "crlf_as_one"
CODE_POINTS = "code_points"


def convention_for_origin(origin: str | None) -> str:
    """Which position unit the tool named in ``Project/@origin`` writes."""
    name = (origin or "").casefold()
    if "nvivo" in name:
        return UTF16
    if "atlas" in name:
        return CRLF_AS_ONE
    return CODE_POINTS


def strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class PositionMap:
    """Maps a tool's positions to code point indexes of the raw file text."""

    def __init__(self, raw: str, convention: str):
        self.raw = raw
        self.convention = convention
        # ``units[i]`` is where code point ``i`` starts in the tool's unit; one
        # entry more than the text for "just past the end". None when the unit
        # is the code point anyway (no astral characters, no CRLF).
        if convention == UTF16 and not _ASTRAL.search(raw):
            convention = CODE_POINTS
        if convention == CRLF_AS_ONE and "\r\n" not in raw:
            convention = CODE_POINTS
        if convention == UTF16:
            self.units = self._cumulative(raw, lambda ch: 2 if ord(ch) > 0xFFFF else 1)
        elif convention == CRLF_AS_ONE:
            units = array("q", bytes(8 * (len(raw) + 1)))
            n = 0
            for i, ch in enumerate(raw):
                if ch == "\n" and i > 0 and raw[i - 1] == "\r":
                    # The LF of a CRLF shares its number with the CR.
                    units[i] = n - 1
                else:
                    units[i] = n
                    n += 1
            units[len(raw)] = n
            self.units = units
        else:
            self.units = None

    @staticmethod
    def _cumulative(raw: str, width) -> array:
        units = array("q", bytes(8 * (len(raw) + 1)))
        n = 0
        for i, ch in enumerate(raw):
            units[i] = n
            n += width(ch)
        units[len(raw)] = n
        return units

    @property
    def length(self) -> int:
        """The text's length in the tool's unit."""
        return len(self.raw) if self.units is None else self.units[-1]

    def start(self, pos: int) -> int:
        if self.units is None:
            return pos
        # The first code point whose unit range contains pos (round down).
        i = bisect.bisect_right(self.units, pos) - 1
        return max(i, 0)

    def end(self, pos: int) -> int:
        if self.units is None:
            return pos
        # The first code point that starts at or after pos (round up).
        return bisect.bisect_left(self.units, pos)


@dataclass
class NormalisedText:
    """The stored form of a raw text and where each raw position went."""

    text: str
    start_map: Sequence[int]
    end_map: Sequence[int]

    @classmethod
    def build(cls, raw: str) -> NormalisedText:
        n_raw = len(raw)
        if "\r" not in raw and "\ufeff" not in raw and unicodedata.is_normalized("NFC", raw):
            identity = range(n_raw + 1)
            return cls(text=raw, start_map=identity, end_map=identity)
        start_map = array("q", bytes(8 * (n_raw + 1)))
        end_map = array("q", bytes(8 * (n_raw + 1)))
        needs_nfc = not unicodedata.is_normalized("NFC", raw)
        out: list[str] = []
        n = 0
        i = 0
        while i < n_raw:
            ch = raw[i]
            if ch == "\ufeff":
                start_map[i] = end_map[i] = n
                i += 1
                continue
            if ch == "\r":
                j = i + 2 if raw[i + 1 : i + 2] == "\n" else i + 1
                for k in range(i, j):
                    start_map[k] = end_map[k] = n
                out.append("\n")
                n += 1
                i = j
                continue
            if not needs_nfc:
                start_map[i] = end_map[i] = n
                out.append(ch)
                n += 1
                i += 1
                continue
            # A cluster: a character and everything NFC may fold into it.
            j = i + 1
            cluster = ch
            while j < n_raw and raw[j] not in "\r\ufeff":
                nxt = raw[j]
                joined = unicodedata.normalize("NFC", cluster + nxt)
                if unicodedata.combining(nxt) or joined != unicodedata.normalize(
                    "NFC", cluster
                ) + unicodedata.normalize("NFC", nxt):
                    cluster += nxt
                    j += 1
                else:
                    break
            piece = unicodedata.normalize("NFC", cluster)
            start_map[i] = end_map[i] = n
            for k in range(i + 1, j):
                start_map[k] = n
                end_map[k] = n + len(piece)
            out.append(piece)
            n += len(piece)
            i = j
        start_map[n_raw] = end_map[n_raw] = n
        text = "".join(out)
        if text != normalise_text(raw):  # pragma: no cover - a guard, not a branch we expect
            raise ValueError("position map does not reproduce the stored text")
        return cls(text=text, start_map=start_map, end_map=end_map)


@dataclass
class MappedRange:
    start: int
    end: int
    clamped: bool


def map_selection(
    positions: PositionMap, normalised: NormalisedText, start: int, end: int
) -> MappedRange | None:
    """A tool's selection as offsets into the stored text; None if nothing is left of it.

    Positions past the end of the text are clamped (``clamped`` says so);
    negative positions count as 0.
    """
    clamped = False
    limit = positions.length
    if start < 0 or end < 0:
        clamped = True
    if start > limit or end > limit:
        clamped = True
    start = min(max(start, 0), limit)
    end = min(max(end, 0), limit)
    raw_start = positions.start(start)
    raw_end = positions.end(end)
    new_start = normalised.start_map[raw_start]
    new_end = normalised.end_map[raw_end]
    if new_start >= new_end:
        return None
    return MappedRange(new_start, new_end, clamped)


def utf16_offset(text: str, index: int) -> int:
    """Code point index -> UTF-16 code units (for building NVivo-style test files and in the browser)."""
    return index + sum(1 for ch in text[:index] if ord(ch) > 0xFFFF)
