"""Speaker-turn recognition and the proposed mapping of speaker labels to roles.

Recognised at the start of a line (optionally after a timestamp such as
``[00:12:03]``): ``Interviewer:``, ``I:``, ``Q:``/``A:``, ``P07:``/``LV-07:``,
``[Name]``, ``{Name}``, ``**Name:**`` (Markdown), a bold run (Word/ODF) and any
``Name:`` that opens at least two lines. Subtitle cues become turns with their
times; consecutive cues of one speaker merge.

A turn covers its label line up to the next label (trailing whitespace
excluded), so ``text[start:end]`` reads like the original paragraph. The
mapping of labels to roles is only a proposal: the researcher confirms or
corrects it before saving.
"""

import re
from collections import Counter
from dataclasses import dataclass

from .document import ParsedDocument

_TIMESTAMP = r"(?:[\[(]?(?P<ts>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)[\])]?[ \t]+)?"
_LABEL_LINE = re.compile(
    r"^[ \t]*" + _TIMESTAMP + r"(?:"
    r"\*\*(?P<md>[^*\n:]{1,40}?)[ \t]*:?[ \t]*\*\*[ \t]*:?"
    r"|\[(?P<sq>[^\]\n]{1,40})\](?P<sqc>[ \t]*:)?"
    r"|\{(?P<cb>[^}\n]{1,40})\}(?P<cbc>[ \t]*:)?"
    r"|(?P<plain>[^\W\d_][\w.'’ -]{0,38}?)[ \t]*:(?!//)"
    r")[ \t]*",
    re.M,
)

INTERVIEWER_LABELS = {
    "interviewer",
    "i",
    "q",
    "iv",
    "int",
    "moderator",
    "researcher",
    "question",
    "interviewerin",
}
PARTICIPANT_LABELS = {"participant", "interviewee", "respondent", "r", "a", "p", "ip", "answer", "b"}
INTERPRETER_LABELS = {"interpreter", "translator", "interp", "t"}
_CODE_LABEL = re.compile(r"^[A-Za-z]{1,3}[-_ ]?\d{1,4}$")
# Bracketed notes that are not speakers.
_ANNOTATIONS = {
    "laughs",
    "laughter",
    "inaudible",
    "pause",
    "crosstalk",
    "unclear",
    "silence",
    "crying",
    "sighs",
    "redacted",
    "interruption",
    "break",
    "end",
    "start",
    "noise",
    "translation",
    "translated",
}
_MAX_LABEL_WORDS = 4


@dataclass
class Turn:
    start: int
    end: int
    speaker: str
    label_start: int | None = None
    label_end: int | None = None
    time_start: float | None = None
    time_end: float | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _clean_label(label: str) -> str:
    return label.strip().strip("[]{}*").strip().rstrip(":").strip()


def is_known(label: str) -> bool:
    """A conventional label (role word or participant code), not a person's name."""
    key = label.casefold().rstrip(".")
    return (
        key in INTERVIEWER_LABELS
        or key in PARTICIPANT_LABELS
        or key in INTERPRETER_LABELS
        or bool(_CODE_LABEL.match(label))
    )


def _timestamp_seconds(stamp: str | None) -> float | None:
    if not stamp:
        return None
    parts = stamp.replace(",", ".").split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    total = 0.0
    for v in values:
        total = total * 60 + v
    return total


def _trimmed_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def find_turns(document: ParsedDocument) -> list[Turn]:
    if document.cues:
        return _cue_turns(document)
    text = document.text
    candidates = []  # (line_start, label, label_start, label_end, explicit, time)
    for m in _LABEL_LINE.finditer(text):
        if m.group("md"):
            raw, explicit, group = m.group("md"), True, "md"
        elif m.group("sq"):
            raw, group = m.group("sq"), "sq"
            explicit = bool(m.group("sqc")) or raw.strip()[:1].isupper()
        elif m.group("cb"):
            raw, group = m.group("cb"), "cb"
            explicit = bool(m.group("cbc")) or raw.strip()[:1].isupper()
        else:
            raw, explicit, group = m.group("plain"), False, "plain"
        label = _clean_label(raw)
        if not label or len(label.split()) > _MAX_LABEL_WORDS or label.casefold() in _ANNOTATIONS:
            continue
        if group in ("sq", "cb") and re.fullmatch(r"[\d:.,]+", label):
            continue
        label_start = m.start(group)
        candidates.append(
            (
                m.start(),
                label,
                label_start,
                label_start + len(raw),
                explicit,
                _timestamp_seconds(m.group("ts")),
            )
        )
    counts = Counter(c[1] for c in candidates)
    accepted = [c for c in candidates if c[4] or is_known(c[1]) or counts[c[1]] >= 2]

    # Bold runs at the start of a paragraph (Word, LibreOffice) name the speaker too.
    starts = {c[0] for c in accepted}
    for b_start, b_end in document.bold_labels:
        line_start = text.rfind("\n", 0, b_start) + 1
        raw = text[b_start:b_end]
        label = _clean_label(raw)
        if line_start in starts or not label or len(label.split()) > _MAX_LABEL_WORDS:
            continue
        if b_end >= len(text) or text[b_end] == "\n":  # a bold heading, not a label
            continue
        accepted.append((line_start, label, b_start, b_start + len(raw.rstrip().rstrip(":")), True, None))
    accepted.sort()

    turns = []
    for i, (line_start, label, l_start, l_end, _explicit, ts) in enumerate(accepted):
        next_start = accepted[i + 1][0] if i + 1 < len(accepted) else len(text)
        end = _trimmed_end(text, line_start, next_start)
        start = line_start
        while start < end and text[start] in " \t":
            start += 1
        if start >= end:
            continue
        turns.append(Turn(start, end, label, l_start, l_end, ts, None))
    return turns


def _cue_turns(document: ParsedDocument) -> list[Turn]:
    text = document.text
    turns: list[Turn] = []
    for cue in document.cues:
        speaker, l_start, l_end = cue.speaker, None, None
        if not speaker:
            m = _LABEL_LINE.match(text, cue.start, cue.end)
            if m and (m.group("plain") or m.group("sq") or m.group("cb") or m.group("md")):
                group = next(g for g in ("md", "sq", "cb", "plain") if m.group(g))
                label = _clean_label(m.group(group))
                if label and len(label.split()) <= _MAX_LABEL_WORDS and label.casefold() not in _ANNOTATIONS:
                    speaker, l_start, l_end = label, m.start(group), m.start(group) + len(m.group(group))
        previous = turns[-1] if turns else None
        if previous and speaker and previous.speaker == speaker and l_start is None:
            previous.end = cue.end
            previous.time_end = cue.time_end
            continue
        if previous and not speaker and previous.speaker and l_start is None:
            # A cue without a voice continues the speaker of the cue before it.
            previous.end = cue.end
            previous.time_end = cue.time_end
            continue
        turns.append(Turn(cue.start, cue.end, speaker, l_start, l_end, cue.time_start, cue.time_end))
    return [t for t in turns if t.start < t.end]


def propose_roles(labels) -> dict[str, str]:
    """A proposed role for each distinct label: interviewer, participant, interpreter or other."""
    labels = list(dict.fromkeys(labels))
    roles = {}
    for label in labels:
        key = label.casefold().rstrip(".")
        if key in INTERVIEWER_LABELS or key.startswith("interviewer"):
            roles[label] = "interviewer"
        elif key in INTERPRETER_LABELS or key.startswith(("interpreter", "translator")):
            roles[label] = "interpreter"
        elif key in PARTICIPANT_LABELS or _CODE_LABEL.match(label) or key.startswith("participant"):
            roles[label] = "participant"
        else:
            roles[label] = "other"
    # Two speakers, one of them the interviewer: the other is the participant.
    unknown = [label for label in labels if roles[label] == "other"]
    if len(unknown) == 1 and "interviewer" in roles.values() and "participant" not in roles.values():
        roles[unknown[0]] = "participant"
    return roles
