"""Find identifiers in a transcript and give each a placeholder.

Three kinds of finding:

* **patterns** (emails, phone numbers, URLs, passport/UNHCR/asylum case and
  other document numbers, dates of birth, GPS coordinates): proposed and
  accepted by default;
* **sensitive terms** of the project (people, villages, camps, organisations)
  with the placeholder the team chose: proposed and accepted by default;
* **capitalised words that look like names** and are in neither the built-in
  common-word list nor the project's allow-list: *flagged* for review, not
  accepted by default.

Sensitive terms are stored only as keyed digests (``term_digest``): the app
can recognise a listed name in a new transcript but cannot print the list,
because the list is itself the key to the pseudonyms. Matching is on word
tokens (``\\w+``), case-folded, so "Al-Hol", "al hol" and "AL HOL" are the same
term and "Bruzgi's" contains "Bruzgi".

Everything here is pure: no database, no logging of text.
"""

import bisect
import functools
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field

from .text import TextEdit, normalise_text


@dataclass
class Finding:
    start: int
    end: int
    category: str
    source: str  # "pattern", "term" or "name"
    accepted: bool
    placeholder: str = ""  # fixed for sensitive terms; assigned later for the rest

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# ---------------------------------------------------------------- patterns

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DAY_MONTH_YEAR = (
    r"(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}"
    r"|(?:19|20)\d{2}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTHS + r"\.?,?\s+(?:19|20)\d{2}"
    r"|" + _MONTHS + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{2})"
)

PATTERNS: list[tuple[str, re.Pattern]] = [
    ("EMAIL", re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("URL", re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")),
    (
        "GPS",
        re.compile(
            r"-?\d{1,2}\.\d{3,}(?:\s*°)?(?:\s*[NS])?\s*[,;/ ]\s*-?\d{1,3}\.\d{3,}(?:\s*°)?(?:\s*[EW](?!\w))?"
            r"|\d{1,3}\s*°\s*\d{1,2}\s*['′]\s*(?:\d{1,2}(?:[.,]\d+)?\s*(?:\"|″|'')\s*)?[NS]"
            r"[\s,]*\d{1,3}\s*°\s*\d{1,2}\s*['′]\s*(?:\d{1,2}(?:[.,]\d+)?\s*(?:\"|″|'')\s*)?[EW]"
        ),
    ),
    (
        "DOB",
        re.compile(
            r"(?i:born|birth|b\.|DOB|d\.o\.b\.?)[^\n\d]{0,25}?(?-i:" + _DAY_MONTH_YEAR + r")",
        ),
    ),
    (
        "DOCUMENT",
        re.compile(
            # UNHCR registration / case numbers, e.g. 144-15C00123, 144-00012345
            r"\b[A-Z0-9]{3}-\d{2}[A-Z]\d{5}\b|\b\d{3}-\d{8}\b"
            # numbers introduced by what they are: passport no. X, case number Y, ref: Z
            r"|(?i:passport|case|file|reference|ref|registration|application|asylum|claim|"
            r"document|ID|permit|visa)(?:\s+(?i:no|nr|number|num|#|id))?\.?\s*(?:[:#]\s*)?"
            r"(?=[A-Z0-9/-]*\d{4})[A-Z0-9][A-Z0-9/-]{4,}[A-Z0-9]"
            # passport-like: one to three capitals and six to nine digits
            r"|\b[A-Z]{1,3}\d{6,9}\b"
            # reference numbers with a year: LT-2021-12345, 2021/12345/AS
            r"|\b[A-Z]{2,4}[-/](?:19|20)\d{2}[-/]\d{3,}\b|\b(?:19|20)\d{2}/\d{4,}(?:/[A-Z]{1,4})?\b"
        ),
    ),
    (
        "PHONE",
        re.compile(
            r"(?<![\w+/])(?:\+|00)\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}(?![\w/])"
            r"|(?<![\w/.-])\(?0\d{1,4}\)?[\s.-]?\d{2,4}(?:[\s.-]?\d{2,4}){1,3}(?![\w/])"
        ),
    ),
    ("DATE", re.compile(r"\b" + _DAY_MONTH_YEAR + r"\b")),
]
_PHONE_DIGITS = (8, 15)
# Patterned categories accepted by default; other exact dates are only flagged.
_FLAG_ONLY = {"DATE"}


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


_DIGIT_RUN = re.compile(r"\d+")
_EMAIL_RIGHT = re.compile(r"@[\w-]+(?:\.[\w-]+)+")
_EMAIL_LEFT_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
# Every pattern but email and URL needs a digit. Scanning only the text around
# digits (keywords such as "born" or "passport no." sit before the number)
# keeps the scan of a long transcript to a few milliseconds.
_BEFORE_DIGITS, _AFTER_DIGITS = 80, 40


def _digit_windows(text: str) -> list[tuple[int, int]]:
    n = len(text)
    windows: list[list[int]] = []
    for m in _DIGIT_RUN.finditer(text):
        start, end = max(0, m.start() - _BEFORE_DIGITS), min(n, m.end() + _AFTER_DIGITS)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    out = []
    for start, end in windows:  # widen to whitespace so no token is cut in two
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < n and not text[end].isspace():
            end += 1
        out.append((start, end))
    return out


def _emails(text: str) -> list[Finding]:
    found, i = [], text.find("@")
    while i != -1:
        m = _EMAIL_RIGHT.match(text, i)
        if m:
            start = i
            while start > 0 and (text[start - 1] in _EMAIL_LEFT_CHARS or text[start - 1].isalnum()):
                start -= 1
            if start < i:
                found.append(Finding(start, m.end(), "EMAIL", "pattern", True))
            i = text.find("@", m.end())
        else:
            i = text.find("@", i + 1)
    return found


def find_patterns(text: str) -> list[Finding]:
    found = _emails(text)
    lowered_has_url = "http" in text or "www." in text or "HTTP" in text or "WWW." in text
    regions = {"URL": [(0, len(text))] if lowered_has_url else []}
    windows = _digit_windows(text)
    for category, pattern in PATTERNS:
        if category == "EMAIL":
            continue
        for w_start, w_end in regions.get(category, windows):
            for m in pattern.finditer(text, w_start, w_end):
                found.extend(_finding(category, m))
    return found


def _finding(category: str, m: re.Match) -> list[Finding]:
    start, end = m.start(), m.end()
    value = m.group()
    if category == "PHONE" and not _PHONE_DIGITS[0] <= _digits(value) <= _PHONE_DIGITS[1]:
        return []
    if category == "DOCUMENT":
        # Keep the keyword ("passport no.") readable; redact the number itself.
        num = re.search(r"[A-Z0-9][A-Z0-9/-]*\d[A-Z0-9/-]*$", value)
        if num and num.start() > 0:
            start += num.start()
    if category == "DOB":
        date = re.search(_DAY_MONTH_YEAR, value)
        if date:
            start += date.start()
    return [Finding(start, end, category, "pattern", category not in _FLAG_ONLY)]


# ---------------------------------------------------------------- sensitive terms

_TOKEN = re.compile(r"\w+")


def term_tokens(term: str) -> list[str]:
    return [t.casefold() for t in _TOKEN.findall(normalise_text(term))]


def term_digest(key: bytes, tokens: list[str]) -> str:
    return hashlib.blake2b(" ".join(tokens).encode(), key=key[:64], digest_size=16).hexdigest()


@dataclass
class TermIndex:
    """Digests of a project's sensitive terms: full term → (category, placeholder); first word → lengths."""

    key: bytes
    terms: dict[str, tuple[str, str]] = field(default_factory=dict)
    first_words: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def add(self, *, digest: str, first_digest: str, word_count: int, category: str, placeholder: str):
        self.terms[digest] = (category, placeholder)
        self.first_words[first_digest].add(word_count)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def find_terms(text: str, index: TermIndex | None) -> list[Finding]:
    if not index or not index.terms:
        return []
    # Digest each distinct word once; only words that can start a listed term are looked at again.
    starters = [
        w for w in set(_TOKEN.findall(text)) if term_digest(index.key, [w.casefold()]) in index.first_words
    ]
    if not starters:
        return []
    lengths_of = {
        w: sorted(index.first_words[term_digest(index.key, [w.casefold()])], reverse=True) for w in starters
    }
    found = []
    hits = []
    for word in starters:  # str.find is far faster than one alternation regex over the text
        at = text.find(word)
        while at != -1:
            end = at + len(word)
            if (at == 0 or not _is_word_char(text[at - 1])) and (
                end == len(text) or not _is_word_char(text[end])
            ):
                hits.append((at, word))
            at = text.find(word, end)
    hits.sort()
    resume = 0
    for at, word in hits:
        if at < resume:
            continue
        lengths = lengths_of[word]
        span = []
        for token in _TOKEN.finditer(text, at):
            span.append(token)
            if len(span) == lengths[0]:
                break
        for n in lengths:
            if n > len(span):
                continue
            hit = index.terms.get(term_digest(index.key, [tok.group().casefold() for tok in span[:n]]))
            if hit:
                found.append(Finding(at, span[n - 1].end(), hit[0], "term", True, hit[1]))
                resume = span[n - 1].end()
                break
    return found


# ---------------------------------------------------------------- names

# Capitalised words that are not personal names (kept short and general;
# project-specific words belong in the project's allow-list).
COMMON_WORDS = set(
    [
        "a",
        "about",
        "after",
        "again",
        "all",
        "also",
        "although",
        "an",
        "and",
        "another",
        "any",
        "are",
        "as",
        "at",
        "away",
        "back",
        "be",
        "because",
        "been",
        "before",
        "being",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "done",
        "down",
        "during",
        "each",
        "even",
        "every",
        "everything",
        "few",
        "first",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "last",
        "later",
        "let",
        "like",
        "many",
        "maybe",
        "me",
        "might",
        "more",
        "most",
        "much",
        "must",
        "my",
        "never",
        "next",
        "no",
        "nobody",
        "none",
        "nor",
        "not",
        "nothing",
        "now",
        "of",
        "off",
        "often",
        "oh",
        "ok",
        "okay",
        "on",
        "once",
        "one",
        "only",
        "or",
        "other",
        "others",
        "our",
        "out",
        "over",
        "perhaps",
        "please",
        "really",
        "right",
        "same",
        "say",
        "see",
        "she",
        "should",
        "since",
        "so",
        "some",
        "somebody",
        "someone",
        "something",
        "sometimes",
        "soon",
        "still",
        "such",
        "than",
        "thank",
        "thanks",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "though",
        "through",
        "thus",
        "to",
        "today",
        "together",
        "tomorrow",
        "too",
        "two",
        "under",
        "until",
        "up",
        "us",
        "very",
        "was",
        "we",
        "well",
        "were",
        "what",
        "whatever",
        "when",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "without",
        "would",
        "yes",
        "yeah",
        "yesterday",
        "yet",
        "you",
        "your",
        "yours",
        "also",
        "again",
        "interviewer",
        "interviewee",
        "participant",
        "respondent",
        "interpreter",
        "translator",
        "question",
        "answer",
        "note",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "doctor",
        "sir",
        "madam",
        "mister",
        "sheikh",
        "mullah",
        "imam",
        "uncle",
        "aunt",
        "brother",
        "sister",
        "mother",
        "father",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "spring",
        "summer",
        "autumn",
        "winter",
        "god",
        "allah",
        "christmas",
        "ramadan",
        "eid",
        "easter",
        "newroz",
        "nowruz",
        "islam",
        "muslim",
        "muslims",
        "christian",
        "christians",
        "english",
        "arabic",
        "kurdish",
        "kurmanji",
        "sorani",
        "dari",
        "farsi",
        "persian",
        "pashto",
        "russian",
        "belarusian",
        "polish",
        "latvian",
        "lithuanian",
        "german",
        "french",
        "turkish",
        "urdu",
        "afghanistan",
        "afghan",
        "afghans",
        "syria",
        "syrian",
        "syrians",
        "iraq",
        "iraqi",
        "iraqis",
        "iran",
        "iranian",
        "iranians",
        "kurdistan",
        "kurd",
        "kurds",
        "yazidi",
        "yazidis",
        "ezidi",
        "turkey",
        "greece",
        "greek",
        "russia",
        "belarus",
        "latvia",
        "lithuania",
        "poland",
        "germany",
        "europe",
        "european",
        "eu",
        "union",
        "france",
        "sweden",
        "netherlands",
        "uk",
        "britain",
        "lebanon",
        "jordan",
        "egypt",
        "yemen",
        "somalia",
        "eritrea",
        "sudan",
        "congo",
        "cameroon",
        "nigeria",
        "ethiopia",
        "pakistan",
        "india",
        "tajikistan",
        "uzbekistan",
        "kazakhstan",
        "minsk",
        "grodno",
        "hrodna",
        "brest",
        "vilnius",
        "riga",
        "warsaw",
        "moscow",
        "baghdad",
        "damascus",
        "kabul",
        "tehran",
        "istanbul",
        "ankara",
        "erbil",
        "duhok",
        "dohuk",
        "sulaymaniyah",
        "mosul",
        "aleppo",
        "sinjar",
        "shengal",
        "daugavpils",
        "unhcr",
        "iom",
        "frontex",
        "ngo",
        "ngos",
        "un",
        "red",
        "cross",
        "taliban",
        "isis",
        "daesh",
        "covid",
        "police",
        "army",
        "border",
        "guard",
        "guards",
        "whatsapp",
        "telegram",
        "facebook",
        "instagram",
        "viber",
        "signal",
        "google",
        "maps",
    ]
)


@functools.cache
def english_vocabulary() -> frozenset[str]:
    """Lower-case English words (Webster's 2nd and GCIDE; capitalised proper nouns left out)."""
    from english_words import get_english_words_set

    words = get_english_words_set(["web2", "gcide"], lower=False, alpha=True)
    return frozenset(w for w in words if w[:1].islower())


# Capitalised tokens (Latin, Latin-1, Latin Extended-A, Cyrillic capitals); isupper() is checked after.
_CAPITALISED = re.compile(r"[A-Z\u00C0-\u00DE\u0100-\u017F\u0400-\u042F][\w'’]*(?:-[^\W\d_][\w'’]*)*")
_STRIP = "\"'’‘“”.,;:!?()[]{}«»-–—*"
_FAMILY_AFTER = re.compile(r"(?:\s+[A-Z][\w'’-]*)*\s+(?:family|brothers|sisters|clan|household)\b")
_TITLE_BEFORE = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St)\.$")
_SENTENCE_END = set(".!?:;\"'“”‘’«»()[]{}-–—•*#>")


def _after_the(text: str, start: int) -> bool:
    """Whether the run of capitalised words ending before ``start`` is preceded by "the"."""
    pos = start
    for _ in range(5):
        end = pos
        while end > 0 and text[end - 1] in " \t":
            end -= 1
        if end == pos or end == 0:
            return False
        begin = end
        while begin > 0 and (text[begin - 1].isalnum() or text[begin - 1] in "'’-"):
            begin -= 1
        word = text[begin:end]
        if word in ("the", "The"):
            return True
        if not word or not word[0].isupper():
            return False
        pos = begin
    return False


def find_names(
    text: str, allowed: set[str], skip: list[tuple[int, int]] = (), mask: list[tuple[int, int]] = ()
) -> list[Finding]:
    """Capitalised words that may be names, flagged (not accepted) for review.

    A capitalised word inside a sentence is a candidate; at a sentence start
    it is one only when it is not an English word and the text never uses it
    in lower case. Common words, place names of the region and the project's
    allow-list are never flagged. Adjacent candidates ("Ahmed Karimi") form
    one finding. ``mask`` ranges (emails, URLs) are ignored.
    """
    if mask:  # blank out emails and URLs: their parts are neither words nor names
        parts, cursor = [], 0
        for m_start, m_end in sorted(mask):
            if m_start >= cursor:
                parts.append(text[cursor:m_start])
                parts.append(" " * (m_end - m_start))
                cursor = m_end
        parts.append(text[cursor:])
        text = "".join(parts)
    skip_starts = {s for s, _ in skip}
    vocabulary = english_vocabulary()
    lowercase_vocab: set[str] | None = None  # built only if a sentence start needs it
    found: list[Finding] = []
    previous_end = -10
    for m in _CAPITALISED.finditer(text):
        w = m.group()
        start, end = m.start(), m.end()
        if len(w) < 2 or not w[0].isupper() or w.isupper() or start in skip_starts:
            continue
        if start and (text[start - 1].isalnum() or text[start - 1] in "'’-_"):
            continue  # inside a word
        key_plain = w.casefold()
        key = key_plain.rstrip("'’s")
        if key_plain in allowed or key in allowed or key_plain in COMMON_WORDS or key in COMMON_WORDS:
            continue
        j = start - 1
        while j >= 0 and text[j] in " \t":
            j -= 1
        sentence_start = j < 0 or text[j] == "\n" or text[j] in _SENTENCE_END
        if sentence_start and text[j] == "." and _TITLE_BEFORE.search(text, max(0, j - 6), j + 1):
            sentence_start = False  # "Mrs. Amini": a title, not the end of a sentence
        adjacent = found and previous_end == start - 1 and text[start - 1] == " "
        if sentence_start and not adjacent:
            # At a sentence start capitals say nothing; an English word there is taken as a word.
            if key_plain in vocabulary:
                continue
            if lowercase_vocab is None:
                lowercase_vocab = {w.strip(_STRIP).casefold() for w in text.split() if w[:1].islower()}
            if key_plain in lowercase_vocab or key in lowercase_vocab:
                continue
        if not adjacent and _after_the(text, start):
            # "the Bug river", "the Lithuanian Ministry": an article before a capitalised
            # word marks a thing or a place, rarely a person ("the Karimi family" excepted).
            if not _FAMILY_AFTER.match(text, end):
                continue
        if adjacent:
            found[-1].end = end
        else:
            found.append(Finding(start, end, "NAME", "name", False))
        previous_end = end
    return found


# ---------------------------------------------------------------- all together


def _overlaps(a: Finding, b: Finding) -> bool:
    return a.start < b.end and b.start < a.end


def detect(
    text: str,
    *,
    terms: TermIndex | None = None,
    allowed: set[str] = frozenset(),
    skip: list[tuple[int, int]] = (),
) -> list[Finding]:
    """Every proposed redaction, without overlaps, in text order.

    Where findings overlap, a sensitive term wins over a pattern, and a
    pattern over a name guess. ``skip`` holds speaker-label ranges (never a
    name guess, e.g. "Interviewer", "P07").
    """
    allowed = {a.casefold() for a in allowed}
    patterns = find_patterns(text)
    masked = [(f.start, f.end) for f in patterns if f.category in ("EMAIL", "URL")]
    ranked = (
        [(0, f) for f in find_terms(text, terms)]
        + [(1, f) for f in patterns]
        + [(2, f) for f in find_names(text, allowed, skip, masked)]
    )
    ranked.sort(key=lambda pair: (pair[0], pair[1].start, -(pair[1].end - pair[1].start)))
    # Accept in rank order; ``kept`` stays sorted by start and never overlaps, so only
    # the neighbours of a candidate's position can overlap it.
    kept: list[Finding] = []
    starts: list[int] = []
    for _rank, finding in ranked:
        if finding.start >= finding.end:
            continue
        i = bisect.bisect_left(starts, finding.start)
        if i > 0 and _overlaps(kept[i - 1], finding):
            continue
        if i < len(kept) and _overlaps(kept[i], finding):
            continue
        kept.insert(i, finding)
        starts.insert(i, finding.start)
    return kept


_NUMBERED = re.compile(r"^\[([A-Z][A-Z_]*)-(\d+)\]$")


def used_numbers(placeholders) -> dict[str, int]:
    """Highest ``n`` used per category among placeholders like ``[NAME-3]``."""
    highest: dict[str, int] = defaultdict(int)
    for p in placeholders:
        m = _NUMBERED.match(p or "")
        if m:
            highest[m.group(1)] = max(highest[m.group(1)], int(m.group(2)))
    return highest


def _identity(category: str, original: str) -> str:
    if category == "PHONE":
        return "".join(ch for ch in original if ch.isdigit())
    return " ".join(term_tokens(original)) or original.casefold()


@dataclass
class Redaction:
    start: int  # in the original text
    end: int
    category: str
    placeholder: str
    original: str  # only for the one-time key download; never stored


def assign_placeholders(text: str, findings, *, taken: dict[str, int] | None = None) -> list[Redaction]:
    """A placeholder per finding: the same original gets the same one; numbering continues after ``taken``.

    ``findings`` are non-overlapping (start, end, category, placeholder-or-"") items.
    """
    counters = defaultdict(int, taken or {})
    by_identity: dict[tuple[str, str], str] = {}
    out = []
    for f in sorted(findings, key=lambda f: f.start):
        original = text[f.start : f.end]
        placeholder = f.placeholder
        if not placeholder:
            key = (f.category, _identity(f.category, original))
            placeholder = by_identity.get(key)
            if placeholder is None:
                counters[f.category] += 1
                placeholder = f"[{f.category}-{counters[f.category]}]"
                by_identity[key] = placeholder
        out.append(Redaction(f.start, f.end, f.category, placeholder, original))
    return out


def redaction_edits(redactions: list[Redaction]) -> list[TextEdit]:
    return [TextEdit(r.start, r.end, r.placeholder) for r in redactions]
