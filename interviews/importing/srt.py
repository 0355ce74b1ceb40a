"""SubRip subtitles (.srt): numbered cues with ``HH:MM:SS,mmm --> HH:MM:SS,mmm`` lines."""

import re

from ..text import normalise_text
from .document import Builder, Cue, ParsedDocument
from .limits import ImportRejected
from .plain import decode_text

_TIME = re.compile(
    r"^\s*(\d{1,3}):(\d{2}):(\d{2})[,.](\d{1,3})\s*-->\s*(\d{1,3}):(\d{2}):(\d{2})[,.](\d{1,3})"
)
_LABEL = re.compile(r"^\s*(?:-\s*)?(?:\[([^\]\n]{1,40})\]|([A-Z][\w .'-]{0,38}?)\s*:)\s*")


def seconds(h, m, s, ms) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def parse(data: bytes) -> ParsedDocument:
    text = normalise_text(decode_text(data))
    builder = Builder()
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.split("\n")
        idx = next((i for i, line in enumerate(lines[:2]) if _TIME.match(line)), None)
        if idx is None:
            continue
        m = _TIME.match(lines[idx])
        body = " ".join(line.strip() for line in lines[idx + 1 :] if line.strip())
        if not body:
            continue
        body = re.sub(r"</?[ibu]>|</?font[^>]*>", "", body)
        start, end = builder.add_line(body)
        builder.cues.append(Cue(start, end, seconds(*m.groups()[:4]), seconds(*m.groups()[4:])))
    if not builder.cues:
        raise ImportRejected("No subtitle cues were found in this .srt file.")
    return builder.build()
