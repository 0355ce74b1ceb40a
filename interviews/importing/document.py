"""What a parser hands on: the normalised text and the structure it saw."""

from dataclasses import dataclass, field

from ..text import normalise_text


@dataclass
class Cue:
    """A subtitle cue: ``text[start:end]`` was shown from ``time_start`` to ``time_end`` (seconds)."""

    start: int
    end: int
    time_start: float
    time_end: float
    speaker: str = ""


@dataclass
class ParsedDocument:
    """Stored-form text (see ``interviews.text.normalise_text``) plus layout hints for turn recognition.

    ``bold_labels`` are ranges of a bold run at the start of a line (a speaker
    name in Word or LibreOffice); ``cues`` come from subtitle files.
    """

    text: str
    bold_labels: list[tuple[int, int]] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "bold_labels": [list(b) for b in self.bold_labels],
            "cues": [c.__dict__ for c in self.cues],
        }

    @classmethod
    def from_json(cls, data: dict) -> "ParsedDocument":
        return cls(
            text=data["text"],
            bold_labels=[tuple(b) for b in data.get("bold_labels", [])],
            cues=[Cue(**c) for c in data.get("cues", [])],
        )


class Builder:
    """Joins normalised lines with ``\\n`` while recording ranges in final offsets."""

    def __init__(self):
        self.parts: list[str] = []
        self.length = 0
        self.bold_labels: list[tuple[int, int]] = []
        self.cues: list[Cue] = []

    def add_line(self, line: str, *, bold_prefix: str = "") -> tuple[int, int]:
        line = normalise_text(line).replace("\n", " ").rstrip()
        if self.parts:
            self.parts.append("\n")
            self.length += 1
        start = self.length
        self.parts.append(line)
        self.length += len(line)
        bold = normalise_text(bold_prefix).rstrip()
        if bold.strip() and line.startswith(bold):
            lead = len(bold) - len(bold.lstrip())
            self.bold_labels.append((start + lead, start + len(bold)))
        return start, self.length

    def build(self) -> ParsedDocument:
        text = "".join(self.parts)
        if normalise_text(text) != text:  # a line began with a combining mark: keep the text, drop layout
            return ParsedDocument(text=normalise_text(text))
        return ParsedDocument(text=text, bold_labels=self.bold_labels, cues=self.cues)
