"""WebVTT subtitles through webvtt-py; ``<v Name>`` voice tags become the cue's speaker."""

import re

from ..text import normalise_text
from .document import Builder, Cue, ParsedDocument
from .limits import ImportRejected
from .plain import decode_text

_TS = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})\.(\d{1,3})")


def _seconds(stamp: str) -> float:
    m = _TS.fullmatch(stamp.strip())
    if not m:
        return 0.0
    h, mi, s, ms = m.groups()
    return int(h or 0) * 3600 + int(mi) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def parse(data: bytes) -> ParsedDocument:
    import webvtt
    from webvtt.errors import MalformedFileError

    text = normalise_text(decode_text(data))
    if not text.lstrip().startswith("WEBVTT"):
        raise ImportRejected("This is not a WebVTT file (it must start with WEBVTT).")
    try:
        captions = webvtt.from_string(text)
    except (MalformedFileError, ValueError):
        raise ImportRejected("The WebVTT file is damaged and cannot be read.") from None
    builder = Builder()
    for caption in captions:
        body = " ".join(part.strip() for part in caption.text.split("\n") if part.strip())
        if not body:
            continue
        start, end = builder.add_line(body)
        builder.cues.append(
            Cue(start, end, _seconds(caption.start), _seconds(caption.end), (caption.voice or "").strip())
        )
    if not builder.cues:
        raise ImportRejected("No subtitle cues were found in this .vtt file.")
    return builder.build()
