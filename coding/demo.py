# ruff: noqa: E501  (this file is mostly prose: long sentences read better unbroken)
"""The demo project: a synthetic, anonymised study written for this app.

``load_demo()`` builds the project "EU–Belarus border crossings (demo)" with
its members, attribute definitions, about 40 participants, their transcripts
(with speaker turns), the codebook and the codings of two coders on the same
interviews, plus a few memos. Everything is invented here, modelled on the
research described in DOMAIN.md; no real interview is copied or paraphrased.

Deterministic: every random choice comes from ``random.Random`` seeded with a
fixed string (per participant), and nothing reads the clock, so two builds
give the same texts, offsets and codings.

How codings are placed: the transcript is assembled sentence by sentence, and
a sentence that states one of the profile's facts carries the codes for it.
The builder records the code-point offsets of every such sentence while it
writes the text, so a coding is exactly ``text[start:end]`` of that sentence
(or of a whole answer, for codes applied to an answer). ``coder1`` applies
every certain code exactly; ``coder2`` agrees mostly, with shifted boundaries,
a few misses and swaps to a neighbouring code. Codes marked "maybe" are
borderline: each coder applies them independently half of the time.

Writes go through ``interviews.services`` and ``coding.services``, so the demo
obeys the same rules as user input, with one exception for speed: codings are
checked against the rules of ``create_coding`` here and bulk-inserted (see
``_add_codings``).

Idempotent: ``load_demo()`` does nothing if the demo project exists;
``load_demo(reset=True)`` deletes it and builds it again.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from interviews import audit
from interviews import services as interview_services
from interviews.models import InterviewStatus, Project, Role
from interviews.text import normalise_text

from . import services as coding_services
from .models import Assignment, AssignmentStatus, Code, Coding, ReviewMark

DEMO_PROJECT_NAME = "EU–Belarus border crossings (demo)"
DEMO_URL = "http://127.0.0.1:8000/"
SEED = "eu-belarus-demo-2021"  # every random choice derives from this

# Fixed, public demo passwords: they are printed by the command, so they are
# only for a local demo (the command refuses to run in production).
DEMO_USERS = [
    # username, password, role in the demo project, description
    ("supervisor", "amber-lantern-harbour-41", Role.OWNER, "owner and supervisor"),
    ("coder1", "quiet-birch-compass-27", Role.CODER, "coder"),
    ("coder2", "salt-river-meadow-58", Role.CODER, "second coder"),
    ("viewer", "copper-kite-window-63", Role.VIEWER, "viewer (read only)"),
]

# ------------------------------------------------------------------ attributes

NATIONALITIES = [
    "Afghanistan",
    "Syria",
    "Iraq",
    "Iran",
    "Yemen",
    "Cameroon",
    "DR Congo",
    "Cuba",
    "Latvia",
    "Lithuania",
    "Poland",
]
LANGUAGES = [
    "Arabic",
    "Kurmanji",
    "Sorani",
    "Dari",
    "Pashto",
    "Farsi",
    "French",
    "Lingala",
    "Spanish",
    "English",
    "Russian",
    "Latvian",
    "Lithuanian",
    "Polish",
]
ATTRIBUTES = [
    # key, label, kind, choices, multiple, description
    (
        "nationality",
        "Nationality",
        "categorical",
        NATIONALITIES,
        False,
        "Citizenship as the participant gave it.",
    ),
    ("gender", "Gender", "categorical", ["Woman", "Man", "Other / not stated"], False, "Self-described."),
    ("age_band", "Age band", "categorical", ["18–24", "25–34", "35–44", "45–54", "55+"], False, ""),
    (
        "languages",
        "Languages spoken",
        "categorical",
        LANGUAGES,
        True,
        "All languages the participant speaks.",
    ),
    (
        "crossing_attempts",
        "Crossing attempts",
        "integer",
        None,
        False,
        "Attempts to cross from Belarus into the EU, as the participant counted them.",
    ),
    (
        "days_at_border",
        "Days at the border",
        "integer",
        None,
        False,
        "Days between the first attempt and leaving the border area.",
    ),
    ("interview_mode", "Interview mode", "categorical", ["In person", "Video call"], False, ""),
    (
        "interview_language",
        "Interview language",
        "categorical",
        LANGUAGES,
        False,
        "Language spoken in the interview.",
    ),
    (
        "first_contact_date",
        "First contact",
        "date",
        None,
        False,
        "When the research team first met the participant.",
    ),
    (
        "has_legal_representation",
        "Has legal representation",
        "boolean",
        None,
        False,
        "Whether a lawyer or legal NGO represented the participant at the time of the interview.",
    ),
]

# ------------------------------------------------------------------ codebook

# (key, name, shortcut, definition, inclusion, exclusion, example)
_C = tuple[str, str, str, str, str, str, str]

CODEBOOK: list[tuple[str, str, str, list]] = [
    (
        "Visa route",
        "#4e79a7",
        "How the participant reached Belarus, and on which papers.",
        [
            (
                "visa_by",
                "Belarusian tourist visa",
                "b",
                "Entered Belarus on a Belarusian (tourist or invitation) visa.",
                "The participant says they held a Belarusian visa, or an agency obtained one for them.",
                "A Russian visa followed by travel on to Belarus (code Russian visa).",
                "The visa was a Belarusian tourist visa, for two weeks, with a hotel in Minsk.",
            ),
            (
                "visa_ru",
                "Russian visa",
                "",
                "Reached Belarus with a Russian visa, crossing the uncontrolled Russia–Belarus border.",
                "A Russian visa of any kind (business, tourist, student) used to travel on to Belarus.",
                "Long prior residence in Russia (code Prior residence in Russia or Belarus).",
                "I had a Russian business visa and took a bus from Moscow to Minsk.",
            ),
            (
                "visa_none",
                "No visa – overland via Russia / Central Asia",
                "",
                "Travelled overland without a visa for Russia or Belarus, with no contact with Belarusian "
                "authorities before the border.",
                "Irregular overland travel through Central Asia or Russia; visa-free entry to Russia "
                "followed by overland travel.",
                "Any Belarusian visa.",
                "I never had a visa; we went through Uzbekistan and Russia by car and on foot.",
            ),
            (
                "residence",
                "Prior residence in Russia or Belarus",
                "",
                "Had lived in Russia or Belarus (study, work, family) before trying to cross.",
                "Residence of several months or more, whatever the permit.",
                "Transit stays of days or weeks.",
                "I had studied in Russia for three years before my permit ran out.",
            ),
            (
                "intermediary",
                "Paid intermediary",
                "i",
                "Paid a travel agency, smuggler or driver to organise part of the journey.",
                "Any payment to a third party for visas, tickets, transport or guidance.",
                "Money taken by border guards (code Violence).",
                "A travel agency in Erbil arranged the visa and the hotel; I paid four thousand dollars.",
            ),
        ],
    ),
    (
        "Prior pushback",
        "#e15759",
        "Being sent back across a border without an individual procedure, before or during this journey.",
        [
            (
                "pb_turkey",
                "by Turkey",
                "",
                "Pushed back or deported by Turkish authorities.",
                "Returns at the Iran–Turkey or Syria–Turkey border; deportation from Turkey.",
                "Arrests in Turkey that ended with release in Turkey.",
                "The Turkish soldiers caught us at the wall and sent us back to Iran.",
            ),
            (
                "pb_greece",
                "by Greece",
                "",
                "Pushed back by Greek authorities (land border or sea).",
                "Returns across the Evros river or to Turkish waters.",
                "Arrests in Greece followed by an asylum registration.",
                "At the river the police took our shoes and put us in a boat back to Turkey.",
            ),
            (
                "pb_latvia",
                "by Latvia",
                "l",
                "Returned to Belarus by Latvian border guards, police or soldiers.",
                "Each described return from Latvian territory; statements about the number of returns.",
                "Being stopped before crossing the line (no return took place).",
                "The Latvian guards drove us back to the fence and opened a gate.",
            ),
            (
                "pb_lithuania",
                "by Lithuania",
                "",
                "Returned to Belarus by Lithuanian officers.",
                "As for Latvia.",
                "Being stopped before crossing the line (no return took place).",
                "The Lithuanian officers put us in a van and drove us back to the border.",
            ),
            (
                "pb_poland",
                "by Poland",
                "p",
                "Returned to Belarus by Polish border guards or soldiers.",
                "As for Latvia.",
                "Being stopped before crossing the line (no return took place).",
                "The Polish soldiers took us back to the fence at night.",
            ),
            (
                "forced",
                "Forced to cross by Belarusian guards",
                "f",
                "Belarusian guards prevented a return to the interior and made people cross again.",
                "Being led or pushed to the fence, threatened or beaten into crossing, refused passage back.",
                "Crossings the participant chose freely.",
                "They said: go to Latvia, or you stay here in the forest.",
            ),
        ],
    ),
    (
        "Persecution ground",
        "#76b7b2",
        "Why the participant fears return. Code the Convention ground (the legal reading) and the form "
        "of persecution (what happened) separately: one form can rest on different grounds.",
        [
            (
                "Convention ground",
                "#59a14f",
                "The five grounds of Article 1A(2) of the 1951 Refugee Convention, as the passage supports them.",
                [
                    (
                        "race",
                        "Race",
                        "",
                        "Persecution for race, ethnicity or descent.",
                        "Ethnic targeting (e.g. Hazara, Kurdish identity).",
                        "Religion alone (code Religion).",
                        "For the Taliban we Hazara are not real Afghans.",
                    ),
                    (
                        "religion",
                        "Religion",
                        "",
                        "Persecution for religious belief, identity or practice, including conversion.",
                        "Yazidi faith, Shia identity, apostasy, house churches.",
                        "Ethnicity without a religious element (code Race).",
                        "When our house church was raided, two members were arrested.",
                    ),
                    (
                        "nationality",
                        "Nationality",
                        "",
                        "Persecution for nationality or lack of it (statelessness), or linguistic community.",
                        "Stateless Kurds, Anglophone Cameroonians targeted as such.",
                        "Ethnicity alone (code Race).",
                        "As a Kurd without papers I did not exist for the state.",
                    ),
                    (
                        "psg",
                        "Particular social group",
                        "",
                        "Persecution for belonging to a group with a shared innate or fundamental trait.",
                        "Gender, family, former soldiers or interpreters of foreign forces, sexual orientation.",
                        "Political activity (code Political opinion).",
                        "An unmarried woman who works must be given to one of their fighters.",
                    ),
                    (
                        "political",
                        "Political opinion",
                        "o",
                        "Persecution for an opinion held or imputed (including refusing to fight).",
                        "Protest, journalism, opposition membership, desertion seen as disloyalty.",
                        "General insecurity without a link to the person's views.",
                        "Whoever refuses is seen as a traitor.",
                    ),
                ],
            ),
            (
                "Form of persecution",
                "#9c755f",
                "Who or what the participant fears.",
                [
                    (
                        "taliban",
                        "Taliban",
                        "t",
                        "Threats or harm by the Taliban.",
                        "Searches, threats to family, lists of former employees.",
                        "General insecurity in Afghanistan without a Taliban actor.",
                        "They came to my house twice and asked my father where I was.",
                    ),
                    (
                        "isis",
                        "ISIS",
                        "",
                        "Harm by ISIS (Daesh), including the 2014 genocide of Yazidis.",
                        "Killings, abductions, displacement caused by ISIS.",
                        "Insecurity in camps years later without ISIS involvement.",
                        "In 2014 ISIS came and killed the men of our village.",
                    ),
                    (
                        "military",
                        "Compulsory military service",
                        "m",
                        "Fear of conscription, of punishment for evasion or desertion.",
                        "Call-ups, checkpoints searching for draft evaders, desertion.",
                        "Forced recruitment by non-state groups (code Armed groups).",
                        "Every young man must serve, and nobody knows when it ends.",
                    ),
                    (
                        "armed_groups",
                        "Armed groups",
                        "a",
                        "Threats by non-state armed groups, militias or feuding clans.",
                        "Forced recruitment, extortion, attacks by militias.",
                        "The Taliban or ISIS (own codes).",
                        "A group with weapons wanted me to drive for them.",
                    ),
                    (
                        "gbv",
                        "Gender-based violence",
                        "g",
                        "Violence or threats because of gender: forced marriage, sexual violence, abduction.",
                        "Threatened or experienced; against the participant or close family.",
                        "Violence at the border that is not gender-specific (code Violence).",
                        "They told my family I must marry one of their fighters.",
                    ),
                ],
            ),
        ],
    ),
    (
        "Reason for the route",
        "#f28e2b",
        "Why the participant chose the route through Belarus.",
        [
            (
                "safer",
                "Perceived as safer",
                "s",
                "The route seemed safer or easier than others (no sea, legal flight).",
                "Comparisons with the sea or with Turkey; reports of relatives who succeeded.",
                "The absence of any legal route (code No legal route).",
                "People said this way is safer than the sea.",
            ),
            (
                "earlier_failed",
                "Earlier routes failed",
                "",
                "Chose Belarus because another route had failed before.",
                "Explicit link between an earlier failure (pushback, deportation) and the choice.",
                "Earlier pushbacks mentioned without that link (code only Prior pushback).",
                "After Greece, I did not want to try that way again.",
            ),
            (
                "no_legal_route",
                "No legal route",
                "",
                "No visa, resettlement or humanitarian route was available.",
                "Failed applications to embassies or programmes; statements that no legal way exists.",
                "Route chosen for safety alone (code Perceived as safer).",
                "I wrote to every embassy, and nobody answered.",
            ),
        ],
    ),
    (
        "Border experience",
        "#b07aa1",
        "What happened at the EU–Belarus border.",
        [
            (
                "weeks",
                "Weeks/months at the border",
                "w",
                "How long the participant stayed in the border area.",
                "Statements of duration; code the sentence that gives it.",
                "Time in Minsk or elsewhere in Belarus away from the border.",
                "Altogether I was in the forest for almost four months.",
            ),
            (
                "violence",
                "Violence",
                "v",
                "Physical violence, threats with weapons, dogs, destruction or theft of belongings by guards.",
                "At the EU–Belarus border, by either side.",
                "Hardship from cold and hunger alone; violence at earlier borders (see the code memo).",
                "A dog bit my leg and the wound was open for two weeks.",
            ),
            (
                "detention",
                "Detention",
                "d",
                "Being held in a closed place: tents, containers, stations, warehouses, closed centres.",
                "Any deprivation of liberty on either side of the border.",
                "Being kept in the forest zone without walls (code Weeks/months at the border).",
                "They kept us for five days in a tent next to a border station.",
            ),
            (
                "claim_nr",
                "Claim not registered",
                "c",
                "Asked for asylum (or tried to) and the request was not registered.",
                "Ignored requests, papers refused or not understood, refusals of entry.",
                "Claims later registered (code In an asylum procedure).",
                "I said the word asylum many times, but nobody wrote it down.",
            ),
        ],
    ),
    (
        "Outcome",
        "#edc948",
        "Where the participant's journey stood at the time of the interview.",
        [
            (
                "assisted_return",
                "Assisted return",
                "r",
                "Returned to the country of origin through an assisted-return programme.",
                "Also when the participant calls the return voluntary.",
                "Deportation without a programme.",
                "In the end I signed for the return programme and flew back to Erbil.",
            ),
            (
                "asylum",
                "In an asylum procedure",
                "",
                "An application for international protection is registered and pending.",
                "A registered application, at the border or inside the country, with no decision yet.",
                "Requests that were ignored (code Claim not registered).",
                "In January they finally registered my application.",
            ),
            (
                "protection",
                "Protection granted",
                "",
                "Refugee status or subsidiary protection granted in an EU state.",
                "Refugee status or subsidiary protection, in the state of first application or another.",
                "A pending application (code In an asylum procedure).",
                "After eight months I received refugee status.",
            ),
            (
                "stuck",
                "Stuck in Belarus",
                "",
                "Still in Belarus, unable to go forward or back.",
                "In Belarus at the time of the interview, with no legal stay or no way onward.",
                "Waiting in Belarus for a few days between attempts (code Weeks/months at the border).",
                "I am still in Minsk; my visa expired long ago.",
            ),
        ],
    ),
]

# Neighbouring codes the second coder sometimes picks instead.
_CONFUSABLE = {
    "political": "psg",
    "psg": "political",
    "safer": "no_legal_route",
    "no_legal_route": "earlier_failed",
    "detention": "weeks",
    "armed_groups": "military",
    "visa_ru": "residence",
}

# ------------------------------------------------------------------ transcript builder


@dataclass(frozen=True)
class S:
    """A sentence (or phrase) with the codes it carries."""

    text: str
    codes: tuple[str, ...] = ()
    maybe: tuple[str, ...] = ()


def s(text: str, *codes: str, maybe: tuple[str, ...] = ()) -> S:
    return S(text, codes, maybe)


@dataclass
class Mark:
    start: int
    end: int
    code: str
    sure: bool
    turn: int


@dataclass
class Transcript:
    text: str
    turns: list[dict]
    marks: list[Mark]
    sentences: list[list[tuple[int, int]]]  # per turn, the sentence ranges


class Builder:
    """Assembles turns ``Speaker: sentence sentence…`` separated by blank lines, recording offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.turns: list[dict] = []
        self.marks: list[Mark] = []
        self.sentences: list[list[tuple[int, int]]] = []

    def _add(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += len(piece)

    def turn(self, role: str, speaker: str, segs, whole: tuple[str, ...] = (), whole_maybe=()) -> None:
        segs = [seg if isinstance(seg, S) else S(seg) for seg in segs if seg]
        if not segs:
            return
        index = len(self.turns)
        if self.parts:
            self._add("\n\n")
        line_start = self.length
        self._add(f"{speaker}: ")
        body_start = self.length
        bounds = []
        for n, seg in enumerate(segs):
            if n:
                self._add(" ")
            start = self.length
            self._add(seg.text)
            bounds.append((start, self.length))
            self.marks += [Mark(start, self.length, c, True, index) for c in seg.codes]
            self.marks += [Mark(start, self.length, c, False, index) for c in seg.maybe]
        self.marks += [Mark(body_start, self.length, c, True, index) for c in whole]
        self.marks += [Mark(body_start, self.length, c, False, index) for c in whole_maybe]
        self.turns.append({"start": line_start, "end": self.length, "speaker": speaker, "role": role})
        self.sentences.append(bounds)

    def build(self) -> Transcript:
        text = "".join(self.parts)
        # Offsets were counted on this exact string; the stored form must be identical.
        assert normalise_text(text) == text, "demo text must already be NFC with \\n line endings"
        return Transcript(text, self.turns, self.marks, self.sentences)


class Script:
    """Convenience wrapper: ``q`` for the interviewer, ``a`` for the participant, ``x`` for the interpreter."""

    def __init__(self, participant_label: str = "Participant") -> None:
        self.b = Builder()
        self.participant_label = participant_label

    def q(self, *segs) -> None:
        self.b.turn("interviewer", "Interviewer", segs)

    def a(self, *segs, whole=(), whole_maybe=()) -> None:
        self.b.turn("participant", self.participant_label, segs, tuple(whole), tuple(whole_maybe))

    def x(self, *segs) -> None:
        self.b.turn("interpreter", "Interpreter", segs)


# ------------------------------------------------------------------ profiles


@dataclass
class Profile:
    pseudonym: str
    participant_type: str
    nationality: str
    gender: str
    age_band: str
    languages: list[str]
    interview_language: str
    mode: str  # attribute value: "In person" / "Video call"
    legal_rep: bool | None = None
    group: str = ""
    persona: str = ""
    route: str = ""  # belarus_visa, russian_visa, overland, residence
    intermediary: bool = False
    prior: tuple[str, ...] = ()  # turkey, greece
    border: tuple[str, ...] = ()  # latvia, lithuania, poland
    attempts: int = 0
    days: int = 0
    outcome: str = ""  # assisted_return, asylum, protection, stuck
    forced: bool = False
    violence: bool = False
    detention: bool = False
    claim_nr: bool = False
    reasons: tuple[str, ...] = ()
    original: str = ""  # arabic, sorani, kurmanji: an original-language interview exists
    follow_up: bool = False
    emoji: bool = False
    residence_country: str = "Russia"
    interview_date: dt.date | None = None
    first_contact: dt.date | None = None
    extra: dict = field(default_factory=dict)


_GROUP_DEFAULTS = {
    "afghan": ("Afghanistan", ["Dari"]),
    "syria": ("Syria", ["Arabic"]),
    "iraq_kurd": ("Iraq", ["Sorani", "Arabic"]),
    "yazidi": ("Iraq", ["Kurmanji", "Arabic"]),
    "iran": ("Iran", ["Farsi"]),
    "yemen": ("Yemen", ["Arabic", "Russian", "English"]),
    "cameroon": ("Cameroon", ["English", "French"]),
    "drc": ("DR Congo", ["French", "Lingala", "Russian"]),
    "cuba": ("Cuba", ["Spanish"]),
}


def _crosser(
    n, group, persona, gender, age, route, intermediary, prior, border, attempts, days, outcome, **kw
):
    nationality, languages = _GROUP_DEFAULTS[group]
    languages = list(languages) + [x for x in kw.pop("more_languages", []) if x not in languages]
    flags = kw.pop("flags", "FVDC")  # Forced, Violence, Detention, Claim not registered
    return Profile(
        pseudonym=f"LV-{n:02d}",
        participant_type="border_crosser",
        nationality=nationality,
        gender={"F": "Woman", "M": "Man"}[gender],
        age_band=age,
        languages=languages,
        interview_language=kw.pop("lang", languages[0]),
        mode=kw.pop("mode", "In person"),
        legal_rep=kw.pop("legal", outcome in ("asylum", "protection")),
        group=group,
        persona=persona,
        route=route,
        intermediary=intermediary,
        prior=tuple(prior),
        border=tuple(border),
        attempts=attempts,
        days=days,
        outcome=outcome,
        forced="F" in flags,
        violence="V" in flags,
        detention="D" in flags,
        claim_nr="C" in flags,
        **kw,
    )


V = "Video call"
# fmt: off
CROSSERS = [
    _crosser(1, "afghan", "army", "M", "25–34", "russian_visa", False, ["turkey"], ["latvia"], 12, 64, "asylum",
             reasons=("earlier_failed", "no_legal_route"), flags="FVC"),
    _crosser(2, "syria", "draft", "M", "18–24", "belarus_visa", True, [], ["latvia", "lithuania"], 9, 41, "asylum",
             reasons=("safer", "no_legal_route"), original="arabic", more_languages=["English"]),
    _crosser(3, "iraq_kurd", "armed", "M", "25–34", "belarus_visa", True, [], ["lithuania", "latvia"], 15, 92,
             "assisted_return", reasons=("safer",), original="sorani", mode=V, flags="FVC"),
    _crosser(4, "yazidi", "yazidi", "F", "25–34", "belarus_visa", True, [], ["latvia"], 4, 35, "protection",
             reasons=("no_legal_route",), original="kurmanji"),
    _crosser(5, "iran", "protester", "M", "35–44", "russian_visa", False, ["turkey"], ["latvia"], 7, 28, "asylum",
             reasons=("earlier_failed",), mode=V, flags="VDC", more_languages=["English"]),
    _crosser(6, "afghan", "hazara", "M", "18–24", "overland", True, ["turkey", "greece"], ["latvia", "lithuania"],
             23, 150, "stuck", reasons=("earlier_failed", "no_legal_route"), mode=V, follow_up=True, emoji=True,
             more_languages=["Farsi"]),
    _crosser(7, "iraq_kurd", "economic", "M", "25–34", "belarus_visa", True, [], ["latvia"], 6, 49,
             "assisted_return", reasons=("safer",), flags="FC"),
    _crosser(8, "syria", "deserter", "M", "25–34", "residence", False, ["turkey"], ["latvia"], 11, 70, "protection",
             reasons=("no_legal_route",), more_languages=["Russian"]),
    _crosser(9, "cuba", "cuba", "M", "35–44", "overland", True, [], ["latvia", "lithuania"], 8, 56, "asylum",
             reasons=("safer",), mode=V, flags="FVC", more_languages=["Russian"]),
    _crosser(10, "yazidi", "yazidi", "M", "45–54", "belarus_visa", True, [], ["latvia"], 17, 120,
             "assisted_return", reasons=("no_legal_route", "safer"), flags="FVC"),
    _crosser(11, "afghan", "activist", "F", "25–34", "belarus_visa", True, [], ["latvia"], 3, 21, "protection",
             reasons=("no_legal_route",), flags="FDC", more_languages=["English", "Pashto"]),
    _crosser(12, "cameroon", "anglophone", "M", "25–34", "residence", False, [], ["lithuania", "latvia"], 14, 98,
             "asylum", reasons=("no_legal_route",), mode=V, more_languages=["Russian"]),
    _crosser(13, "iraq_kurd", "feud", "M", "35–44", "belarus_visa", True, ["turkey"], ["poland", "latvia"], 26, 180,
             "assisted_return", reasons=("earlier_failed",), mode=V),
    _crosser(14, "syria", "stateless", "M", "18–24", "belarus_visa", True, ["turkey", "greece"], ["latvia"], 19, 110,
             "asylum", reasons=("earlier_failed", "safer"), lang="Kurmanji", more_languages=["Kurmanji"]),
    _crosser(15, "iran", "convert", "F", "35–44", "belarus_visa", False, [], ["latvia"], 2, 12, "asylum",
             reasons=("no_legal_route",), flags="D", more_languages=["English"]),
    _crosser(16, "yemen", "yemen", "M", "25–34", "residence", False, [], ["latvia"], 10, 75, "stuck",
             reasons=("no_legal_route",), mode=V, flags="FVC", legal=False),
    _crosser(17, "afghan", "journalist", "M", "35–44", "overland", True, ["turkey"], ["latvia"], 5, 33,
             "protection", reasons=("earlier_failed",), flags="FDC", more_languages=["Pashto", "English"]),
    _crosser(18, "iraq_kurd", "protest", "M", "18–24", "belarus_visa", True, [], ["lithuania", "latvia"], 21, 140,
             "assisted_return", reasons=("safer",), mode=V),
    _crosser(19, "drc", "opposition", "M", "25–34", "residence", False, [], ["latvia", "poland"], 9, 60, "stuck",
             reasons=("no_legal_route",), mode=V, flags="FVC", residence_country="Belarus"),
    _crosser(20, "syria", "draft", "M", "18–24", "belarus_visa", True, ["greece"], ["latvia"], 30, 205, "stuck",
             reasons=("earlier_failed",), mode=V),
    _crosser(21, "yazidi", "yazidi", "F", "18–24", "belarus_visa", True, [], ["lithuania", "latvia"], 8, 63,
             "asylum", reasons=("no_legal_route",)),
    _crosser(22, "iraq_kurd", "economic", "M", "18–24", "belarus_visa", True, [], ["poland"], 5, 25,
             "assisted_return", reasons=("safer",), mode=V, flags="FC"),
    _crosser(23, "afghan", "army", "M", "35–44", "residence", False, [], ["latvia"], 13, 87, "asylum",
             reasons=("no_legal_route",), more_languages=["Russian", "Pashto"]),
    _crosser(24, "iran", "kurd", "M", "25–34", "russian_visa", True, ["turkey"], ["latvia", "lithuania"], 16, 101,
             "protection", reasons=("earlier_failed",), lang="Sorani", more_languages=["Sorani"]),
    _crosser(25, "syria", "draft", "M", "25–34", "russian_visa", False, [], ["latvia"], 4, 18, "protection",
             reasons=("safer",), flags="D", more_languages=["English"]),
    _crosser(26, "iraq_kurd", "armed", "F", "35–44", "belarus_visa", True, [], ["latvia"], 6, 44,
             "assisted_return", reasons=("safer",), flags="FVC"),
    _crosser(27, "cuba", "cuba", "F", "25–34", "overland", True, [], ["latvia"], 3, 20, "asylum",
             reasons=("safer",), mode=V, flags="FDC"),
    _crosser(28, "afghan", "hazara", "F", "18–24", "overland", True, ["turkey", "greece"], ["latvia"], 11, 80,
             "asylum", reasons=("earlier_failed",), emoji=True, more_languages=["English"]),
    _crosser(29, "yazidi", "yazidi", "M", "25–34", "belarus_visa", True, [], ["poland", "lithuania", "latvia"], 34,
             212, "assisted_return", reasons=("no_legal_route",), mode=V, follow_up=True),
    _crosser(30, "iran", "protester", "M", "18–24", "belarus_visa", False, [], ["lithuania"], 7, 38, "stuck",
             reasons=("safer",), mode=V, flags="FVC", legal=False),
    _crosser(31, "cameroon", "anglophone", "F", "25–34", "residence", False, [], ["latvia"], 5, 30, "asylum",
             reasons=("no_legal_route",), residence_country="Belarus", more_languages=["Russian"]),
    _crosser(32, "iraq_kurd", "economic", "M", "45–54", "belarus_visa", True, ["greece"], ["latvia"], 12, 95,
             "assisted_return", reasons=("earlier_failed",)),
    _crosser(33, "afghan", "army", "M", "25–34", "russian_visa", True, [], ["lithuania", "latvia"], 9, 58,
             "protection", reasons=("no_legal_route",), lang="Pashto", more_languages=["Pashto", "English"]),
    _crosser(34, "syria", "deserter", "M", "35–44", "belarus_visa", True, ["turkey"], ["latvia", "lithuania"], 22,
             160, "stuck", reasons=("earlier_failed",), mode=V, legal=False),
]
# fmt: on


def _other(pseudonym, ptype, nationality, gender, age, languages, mode, lang="English", **kw):
    return Profile(
        pseudonym=pseudonym,
        participant_type=ptype,
        nationality=nationality,
        gender=gender,
        age_band=age,
        languages=languages,
        interview_language=lang,
        mode=mode,
        group=ptype,
        border=kw.pop("border"),
        **kw,
    )


OTHERS = [
    _other(
        "NGO-01",
        "ngo_staff",
        "Latvia",
        "Woman",
        "35–44",
        ["Latvian", "Russian", "English"],
        "In person",
        border=("latvia",),
    ),
    _other(
        "NGO-02",
        "ngo_staff",
        "Lithuania",
        "Man",
        "25–34",
        ["Lithuanian", "Russian", "English"],
        V,
        border=("lithuania",),
    ),
    _other("NGO-03", "ngo_staff", "Poland", "Woman", "45–54", ["Polish", "English"], V, border=("poland",)),
    _other(
        "VOL-01",
        "volunteer",
        "Poland",
        "Man",
        "25–34",
        ["Polish", "English", "Arabic"],
        "In person",
        border=("poland",),
    ),
    _other(
        "VOL-02",
        "volunteer",
        "Latvia",
        "Woman",
        "18–24",
        ["Latvian", "English"],
        "In person",
        lang="Latvian",
        border=("latvia",),
    ),
    _other(
        "LAW-01",
        "lawyer",
        "Latvia",
        "Woman",
        "35–44",
        ["Latvian", "Russian", "English"],
        "In person",
        border=("latvia",),
    ),
    _other(
        "LAW-02", "lawyer", "Lithuania", "Man", "45–54", ["Lithuanian", "English"], V, border=("lithuania",)
    ),
]

# ------------------------------------------------------------------ content
#
# Every list below is a slot: the script picks one variant. Variants are
# written to be interchangeable, so a profile's facts always appear, worded
# differently from one transcript to the next.

HOMETOWN = {
    "army": ["Kabul", "Kandahar", "Kunduz"],
    "hazara": ["Ghazni", "Kabul", "Mazar-i-Sharif"],
    "activist": ["Herat", "Kabul"],
    "journalist": ["Jalalabad", "Kabul"],
    "draft": ["the Damascus countryside", "Homs", "Hama", "Latakia"],
    "deserter": ["Aleppo", "Homs", "Deir ez-Zor"],
    "stateless": ["Qamishli", "Hasakah"],
    "armed": ["Sulaymaniyah", "Ranya", "Kirkuk"],
    "economic": ["Erbil", "Sulaymaniyah", "Halabja"],
    "feud": ["Ranya", "Koya"],
    "protest": ["Sulaymaniyah", "Kalar"],
    "yazidi": ["Sinjar"],
    "protester": ["Tehran", "Shiraz", "Ahvaz"],
    "convert": ["Shiraz", "Isfahan"],
    "kurd": ["Sanandaj", "Mahabad"],
    "yemen": ["Sana'a", "Taiz"],
    "anglophone": ["Bamenda", "Buea"],
    "opposition": ["Kinshasa"],
    "cuba": ["Havana", "Santiago de Cuba", "Holguín"],
}

BACKGROUND = {
    "army": [
        [
            "I was a soldier in the Afghan army for {n} years, most of the time in the south.",
            "I served in the national army, first as a driver and then in a logistics unit.",
            "For six years I worked as an interpreter for foreign troops, and later for a company at the airport.",
        ],
        [
            "It was a good job, we had a salary every month, and my family was proud of me.",
            "My commanders were foreigners and Afghans; I learned some English there.",
        ],
    ],
    "hazara": [
        [
            "I am from a Hazara family; my father had a small shop and I studied engineering for two years.",
            "We are Hazara; my family had some land and I worked with my uncle as a tailor.",
        ],
        [
            "In our area everybody knew which families were Hazara and Shia.",
            "Even before, on the roads, Hazara people were stopped and taken out of buses.",
        ],
    ],
    "activist": [
        [
            "I studied pedagogy and taught at a school for girls for five years.",
            "I worked at a school for girls and, in the evenings, at a small women's centre.",
        ],
        [
            "I was the first woman in my family to work outside the house.",
            "My salary paid the rent for all of us.",
        ],
    ],
    "journalist": [
        [
            "I worked for a local radio station, first as a technician and then as a reporter.",
            "I was a reporter for a regional television channel for eight years.",
        ],
        ["I reported on security, on corruption, sometimes on the Taliban."],
    ],
    "draft": [
        [
            "I was a student of English literature; I had one more year to finish.",
            "I worked in my father's workshop, we repaired cars.",
            "I had just finished school and was working in a bakery.",
        ],
        [
            "Life was hard but we managed; the electricity came two hours a day.",
            "My older brother had already left for Germany in 2015.",
        ],
    ],
    "deserter": [
        [
            "I was a teacher of mathematics before the army took me.",
            "I worked as an electrician before they took me into the army.",
        ],
        ["I have a wife and a small daughter; they are in Lebanon now with her family."],
    ],
    "stateless": [
        [
            "I am a Kurd from the north-east; my family never had Syrian citizenship, only a red card for foreigners.",
            "We are Kurds without nationality; in my father's time the state took it away from our family.",
        ],
        ["Without papers I could not study at university or own anything."],
    ],
    "armed": [
        [
            "I had a small car-repair shop with my cousin.",
            "I was a driver, I drove a taxi between the cities.",
            "I worked in construction and sometimes as a guard in a shopping centre.",
        ],
        ["I have {kids} children; the oldest is eleven."],
    ],
    "economic": [
        [
            "I finished university in accounting, but there was no work for me.",
            "I worked on building sites when there was work, maybe ten days a month.",
            "I was a government employee, but the salaries were not paid for months.",
        ],
        [
            "Without a connection to one of the parties you do not get a job.",
            "I had debts from my father's operation, almost twelve thousand dollars.",
        ],
    ],
    "feud": [
        ["I had a shop selling mobile phones.", "I worked as a farmer with my brothers."],
        ["We are a big family, and in our area the families are everything."],
    ],
    "protest": [
        ["I was a student at the technical institute.", "I worked in a café and studied in the evenings."],
        ["Many young people in my city have no work and no hope."],
    ],
    "yazidi": [
        [
            "We are Yazidis from the Sinjar area; before 2014 we had sheep and a small house.",
            "I am Yazidi; my family were farmers near the mountain.",
        ],
        [
            "Since 2014 we lived in a camp near Duhok, in a tent and later in a caravan.",
            "After we escaped, we lived for seven years in a camp, in a tent that was hot in summer and wet in winter.",
        ],
    ],
    "protester": [
        [
            "I worked as a technician in a factory.",
            "I was a student of civil engineering and worked at night as a taxi driver.",
        ],
        ["Prices went up every month, and people were angry."],
    ],
    "convert": [
        ["I worked as a nurse in a private clinic.", "I was an accountant in a trading company."],
        ["I was born Muslim, but for some years I had been reading the Bible with friends."],
    ],
    "kurd": [
        ["I am a Kurd from the west of Iran; I was a teacher of Kurdish, which is not officially allowed."],
        ["In our region there are many arrests, especially of young people."],
    ],
    "yemen": [
        ["I came to Russia in 2016 as a student of medicine, with a scholarship."],
        [
            "When the war started at home, the scholarship stopped and my family could not send money any more."
        ],
    ],
    "anglophone": [
        [
            "I am from the English-speaking region; I came to study in {residence} with a student visa.",
            "I studied engineering in {residence} for three years.",
        ],
        ["At home the crisis between the army and the separatists had already started."],
    ],
    "opposition": [
        ["I studied in {residence} for four years, at a technical university."],
        ["Before that I was active in a youth movement at home."],
    ],
    "cuba": [
        [
            "I am a musician; I played in hotels for tourists.",
            "I worked as an engineer for the state electricity company.",
        ],
        ["The salary was enough for maybe one week of food."],
    ],
}

FAMILY = {
    "Man": [
        "My parents and my younger brothers are still at home.",
        "I am married and have {kids} children; they are still there.",
        "My wife and children stayed with her family; I talk to them when there is internet.",
        "I am not married; my mother lives with my sister now.",
    ],
    "Woman": [
        "My parents and my younger sisters are still at home.",
        "My husband and our {kids} children stayed with his parents; I talk to them when there is internet.",
        "I am not married; my mother lives with my brother now.",
    ],
}

PERSECUTION = {
    "army": [
        [
            s(
                "When the Taliban took Kabul in August, they came to my house twice and asked my father where I was.",
                "taliban",
            ),
            s(
                "After August the Taliban searched the houses of soldiers in our street; they came to ours at night.",
                "taliban",
            ),
        ],
        [
            s(
                "They had lists of everyone who worked with the army or with foreigners; for them I am a traitor.",
                "political",
                maybe=("psg",),
            ),
            s(
                "For them anyone who wore the uniform of the republic is an enemy, even now.",
                "political",
                maybe=("psg",),
            ),
        ],
        [
            s(
                "A colleague from my unit was taken from his home, and a week later his body was found.",
                "taliban",
            ),
            s(
                "Two men from my unit disappeared after they answered a Taliban call to come back to work.",
                maybe=("taliban",),
            ),
        ],
    ],
    "hazara": [
        [
            s(
                "I am Hazara, and for the Taliban we are not real Muslims and not real Afghans.",
                "race",
                "religion",
            ),
            s(
                "For the Taliban, Hazara and Shia people are not Afghans; they say it openly.",
                "race",
                "religion",
            ),
        ],
        [
            s(
                "In our district they took the land of Hazara families and beat the men who refused.",
                "taliban",
            ),
            s(
                "In September the Taliban took my uncle's land and beat him in front of the mosque.",
                "taliban",
            ),
        ],
        [
            s(
                "There were bombings at our schools and our mosques before, and nobody protected us.",
                maybe=("religion",),
            )
        ],
    ],
    "activist": [
        [
            s(
                "The Taliban closed my school in the first week, and they came to ask for the list of teachers.",
                "taliban",
            ),
        ],
        [
            s(
                "They told my family that an unmarried woman who works must be married to one of their fighters.",
                "gbv",
                "psg",
            ),
        ],
        [
            s(
                "I had also spoken at a women's rights meeting that was on television, so they knew my face.",
                "political",
            ),
        ],
    ],
    "journalist": [
        [
            s(
                "After the fall of the government they called the station and said they know where the reporters live.",
                "taliban",
            ),
        ],
        [
            s(
                "I had reported on the Taliban for years, with my name and my voice, so for them I am an enemy.",
                "political",
            ),
        ],
        [
            s(
                "A colleague was beaten at a checkpoint when they found press cards in his car.",
                maybe=("taliban",),
            )
        ],
    ],
    "draft": [
        [
            s(
                "In Syria every young man must serve, and nobody knows when the service ends; some of my friends "
                "have been in the army for nine years.",
                "military",
            ),
            s(
                "My call-up for military service came when I was twenty; if you go, you may never come back.",
                "military",
            ),
        ],
        [
            s(
                "My name was on the list at the checkpoints, so I could not even travel to the next town.",
                "military",
            ),
            s(
                "At every checkpoint they check the lists of who has not served, so I stayed at home for a year.",
                "military",
            ),
        ],
        [
            s(
                "If you refuse, the regime says you are with the opposition, and people disappear in prison for that.",
                "political",
            ),
            s(
                "I did not want to carry a weapon against my own people, and whoever refuses is called a traitor.",
                "political",
            ),
        ],
    ],
    "deserter": [
        [
            s(
                "I served two years and then I ran away, because they ordered us to shoot at a village.",
                "military",
                "political",
            ),
        ],
        [
            s(
                "A deserter, if they catch him, goes to the military prison, and nobody comes out of there the same.",
                "military",
            ),
        ],
        [s("My family was questioned three times about where I am.", maybe=("political",))],
    ],
    "stateless": [
        [
            s(
                "As a Kurd without nationality I did not exist for the state; I could not get a passport or "
                "register my marriage.",
                "nationality",
            ),
        ],
        [
            s(
                "In our area the armed groups take young men by force to fight, one side or the other.",
                "armed_groups",
                maybe=("military",),
            ),
        ],
        [
            s(
                "Two times they came to our house for me, and my mother told them I was in Damascus.",
                "armed_groups",
            ),
        ],
    ],
    "armed": [
        [
            s(
                "A group with weapons wanted me to drive for them; when I refused, they shot at my car.",
                "armed_groups",
            ),
            s(
                "A militia wanted money from my shop every month, and when I stopped paying they burned it.",
                "armed_groups",
            ),
        ],
        [
            s(
                "I went to the police, but the police know these people, and nothing happened.",
                maybe=("armed_groups",),
            ),
        ],
        [s("After that I received messages that they know where my children go to school.", "armed_groups")],
    ],
    "economic": [
        [
            s("To be honest, nobody was threatening me personally."),
            s("I was not in danger from anyone, I want to say this honestly."),
        ],
        [
            s("I left because there was no future: no work, debts, and my children need a life."),
            s("Everybody my age is leaving; there is no work and the salaries do not come."),
        ],
        [s("There is also corruption everywhere, and the parties decide everything.", maybe=("political",))],
    ],
    "feud": [
        [
            s(
                "Because of a conflict between my family and another family, the men of my family cannot leave "
                "the house.",
                "psg",
            ),
        ],
        [
            s("They killed my cousin in the street, and they said I am next.", "armed_groups"),
        ],
        [s("The police will not go against a big tribe.", maybe=("armed_groups",))],
    ],
    "protest": [
        [
            s(
                "I took part in the protests about unpaid salaries, and after that the security forces arrested me "
                "for nine days.",
                "political",
            ),
        ],
        [
            s("When they let me go, they said next time you will not come out.", "political"),
        ],
        [s("Men from a party militia came to my father's house and asked for me.", "armed_groups")],
    ],
    "yazidi": [
        [
            s(
                "In 2014 ISIS came and killed the men of our village and took the women and girls.",
                "isis",
                "religion",
            ),
            s(
                "When ISIS attacked in August 2014 we ran to the mountain with nothing.",
                "isis",
                maybe=("religion",),
            ),
        ],
        [
            s("My sister was taken by them, and we still do not know where she is.", "isis", "gbv"),
            s("My father and two of my brothers were killed by ISIS.", "isis"),
        ],
        [
            s(
                "Sinjar is still not safe; there are different armed groups and nobody rebuilt our houses.",
                maybe=("armed_groups",),
            ),
            s(
                "We cannot go back home; the village is destroyed and the groups with weapons are still there.",
                maybe=("armed_groups",),
            ),
        ],
    ],
    "protester": [
        [
            s(
                "In November 2019 I was at the protests against the fuel prices, and I was arrested and kept for "
                "three weeks.",
                "political",
            ),
            s(
                "I joined the protests, and the next day they took me from my workplace and kept me for a month.",
                "political",
            ),
        ],
        [
            s(
                "When they released me, I had to sign that I would not take part again, and they called me every month.",
                "political",
            ),
        ],
        [s("In prison they beat me and threatened my sister.", maybe=("political",))],
    ],
    "convert": [
        [
            s(
                "I became a Christian in a house church; when the church was raided, two of our members were arrested.",
                "religion",
            ),
        ],
        [s("For leaving Islam the punishment can be very heavy, so I could not stay.", "religion")],
        [s("As a woman alone, my brother also said he would not protect me any more.", maybe=("gbv", "psg"))],
    ],
    "kurd": [
        [
            s(
                "I was distributing leaflets for a Kurdish party, and the intelligence service came to my workplace.",
                "political",
                maybe=("race",),
            ),
        ],
        [s("Two of my friends were sentenced to many years in prison for the same thing.", "political")],
    ],
    "yemen": [
        [
            s(
                "The Houthis control my city; they wanted my brother and me to join their fighters.",
                "armed_groups",
            ),
        ],
        [s("My family was also accused of supporting the other side.", "political")],
    ],
    "anglophone": [
        [
            s(
                "In my village the army burnt houses, and they arrest young men from the English-speaking region as "
                "separatists.",
                "political",
                maybe=("nationality",),
            ),
        ],
        [
            s(
                "The separatists also threatened my family because my father worked for the government.",
                "armed_groups",
            )
        ],
    ],
    "opposition": [
        [
            s(
                "I was a member of an opposition youth movement, and I was arrested after a demonstration.",
                "political",
            ),
        ],
        [s("My name was on a list; my friend who went back was arrested at the airport.", "political")],
    ],
    "cuba": [
        [
            s(
                "After the protests of July 2021 they came for people who had posted videos, and I had posted one.",
                "political",
            ),
            s(
                "I was at the protests in July 2021; two weeks later the police came to my house with a paper.",
                "political",
            ),
        ],
        [s("They told me I would go to prison for public disorder, or I could leave.", "political")],
    ],
}

COUNTRY_OF = {
    "afghan": "Afghanistan",
    "syria": "Syria",
    "iraq_kurd": "Kurdistan",
    "yazidi": "Iraq",
    "iran": "Iran",
    "yemen": "Yemen",
    "cameroon": "Cameroon",
    "drc": "Congo",
    "cuba": "Cuba",
}

PRIOR = {
    "turkey": [
        s(
            "In 2019 I tried to go to Turkey through Iran; the Turkish soldiers caught us at the border wall, took "
            "our phones and sent us back.",
            "pb_turkey",
        ),
        s(
            "Three times I tried to cross into Turkey, and three times the soldiers sent us back the same night.",
            "pb_turkey",
        ),
        s(
            "I lived in Istanbul for a year without papers; the police caught me and deported me.",
            "pb_turkey",
        ),
    ],
    "greece": [
        s(
            "In Greece, at the river, the police took everything, even our shoes, and put us in a boat back to the "
            "Turkish side.",
            "pb_greece",
            maybe=("violence",),
        ),
        s(
            "We reached an island once, but masked men took us back to the sea and left us in a boat without engine.",
            "pb_greece",
            maybe=("violence",),
        ),
    ],
}

REASONS = {
    "safer": [
        s(
            "People said that this way is safer than the sea, that there is no boat and nobody drowns.",
            "safer",
        ),
        s("My cousin had crossed to Germany this way in the summer, so we thought it was possible.", "safer"),
        s("You fly with a visa to Minsk, like a tourist; it sounded easy and safe.", "safer"),
    ],
    "earlier_failed": [
        s(
            "After what happened in Turkey and Greece, I did not want to try that way again.",
            "earlier_failed",
        ),
        s(
            "The old way was closed for me, so when I heard about Belarus I thought: this is the other door.",
            "earlier_failed",
        ),
    ],
    "no_legal_route": [
        s(
            "I went to embassies and wrote to programmes for people like me, but nobody answered.",
            "no_legal_route",
        ),
        s(
            "There is no visa for people like us; the only way to ask for asylum is to arrive there.",
            "no_legal_route",
        ),
        s("For someone from my country there is no legal way, no family reunion, nothing.", "no_legal_route"),
    ],
}

HUB = {
    "afghan": ["Istanbul", "Tashkent"],
    "syria": ["Damascus", "Beirut"],
    "iraq_kurd": ["Erbil", "Istanbul"],
    "yazidi": ["Erbil", "Baghdad"],
    "iran": ["Tehran", "Istanbul"],
    "yemen": ["Moscow"],
    "cameroon": ["Istanbul"],
    "drc": ["Istanbul"],
    "cuba": ["Moscow"],
}
AGENCY_CITY = {
    "afghan": "Istanbul",
    "syria": "Damascus",
    "iraq_kurd": "Erbil",
    "yazidi": "Duhok",
    "iran": "Tehran",
    "cuba": "Moscow",
    "yemen": "Moscow",
    "cameroon": "Moscow",
    "drc": "Minsk",
}

ROUTE = {
    "belarus_visa": [
        s(
            "The visa was a Belarusian tourist visa, for two weeks, with a hotel reservation in Minsk.",
            "visa_by",
        ),
        s("We had Belarusian visas, tourist visas, and an invitation from a hotel.", "visa_by"),
        s("With the Belarusian visa in my passport I flew from {hub} to Minsk, like a tourist.", "visa_by"),
    ],
    "russian_visa": [
        s(
            "I had a Russian visa, a business visa that a company in Moscow arranged, and from Moscow I took a bus "
            "to Minsk; nobody checks between Russia and Belarus.",
            "visa_ru",
        ),
        s("I got a Russian tourist visa, flew to Moscow and then went by car to Belarus.", "visa_ru"),
    ],
    "overland": [
        s(
            "I never had a visa for Russia or Belarus; we went through Central Asia and then by car and on foot, and "
            "nobody checked us.",
            "visa_none",
        ),
        s(
            "I did not need a visa for Russia, so I flew to Moscow and then a driver took us over the border to "
            "Belarus on small roads.",
            "visa_none",
        ),
        s(
            "We walked over mountains into Tajikistan and then went on by truck to Russia, without any visa.",
            "visa_none",
        ),
    ],
    "residence": [
        s(
            "I had lived in {residence} for {years} years, first as a student and then working in a warehouse.",
            "residence",
        ),
        s(
            "I was living in {residence} for {years} years already; I had a residence permit through my studies.",
            "residence",
        ),
    ],
}
ROUTE_MORE = {
    "belarus_visa": [
        "The plane was full of people like us, families with children.",
        "At the airport in Minsk nobody asked us anything; they stamped the passport and said welcome.",
        "At passport control they looked at the visa for a long time, and then let us in.",
    ],
    "russian_visa": [
        "In Moscow I stayed with a friend for two weeks.",
        "I did not see any Belarusian official until the soldiers at the border.",
    ],
    "overland": [
        "I never saw a Belarusian official before the soldiers at the border.",
        "It took almost two months to reach Belarus.",
    ],
    "residence": [
        "When my permit was not renewed, I understood I could not stay.",
        "After the university closed my place, the police started to check me on the street.",
    ],
}
INTERMEDIARY = {
    "belarus_visa": [
        s(
            "A travel agency in {agency} arranged everything, the invitation, the visa and the hotel, and I paid "
            "{amount} dollars.",
            "intermediary",
        ),
        s(
            "We paid an agency {amount} dollars for the visa and the ticket; they had an office with a sign, "
            "everything official.",
            "intermediary",
        ),
    ],
    "other": [
        s(
            "In {agency} a man who organises these trips took {amount} dollars to drive us to the border.",
            "intermediary",
        ),
        s(
            "I paid a smuggler {amount} dollars for the whole way, and he passed us from one driver to the next.",
            "intermediary",
        ),
    ],
}
EMOJI_MESSAGES = [
    s(
        'The driver sent a message on the phone: "Go now 🏃‍♂️ the soldiers changed shift 🚨", and after that he '
        "blocked my number.",
        "intermediary",
    ),
    s(
        "My mother sent me a voice message every evening, and one 🙏 at the end; that was all she could do.",
    ),
]

ORDINAL = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
GUARDS = {
    "latvia": ["Latvian border guards", "Latvian soldiers", "Latvian police"],
    "lithuania": ["Lithuanian officers", "Lithuanian border guards"],
    "poland": ["Polish soldiers", "Polish border guards"],
}
COUNTRY_NAME = {"latvia": "Latvia", "lithuania": "Lithuania", "poland": "Poland"}
LANG_OF = {"latvia": "Latvian", "lithuania": "Lithuanian", "poland": "Polish"}

EPISODE_START = [
    "The {ord} time we crossed at night, about {n} people together.",
    "We tried near a river, because someone said there were fewer patrols there.",
    "Once we walked for two days through the swamp before we saw a road.",
    "This time we were only three, me and two men I met in the forest.",
    "We crossed under the wire where the ground was soft, with a family with two small children.",
    "We waited until it was snowing, because the cameras see less in the snow.",
    "In the morning we crossed in a place where the fence was not finished yet.",
    "We went with a group of Syrians who had a GPS map on a phone.",
    "That time we tried further north, where the forest is thicker.",
    "We had rested for two days on the Belarusian side, so we were a little stronger.",
]
FAMILY_CONTACT = [
    "When there was a signal, I sent my mother a short message that I am alive.",
    "My family did not know for two weeks whether I was alive.",
    "I called my brother once a week, with a power bank we shared.",
    "I did not tell my parents how bad it was; I said we are in a hotel.",
]
EPISODE_PROMPT = [
    "What happened then?",
    "Can you tell me about another attempt?",
    "And the next time?",
    "Do you remember another time in detail?",
    "What happened after that?",
    "And after they sent you back?",
]
PUSHBACK = [
    "After a few hours in the forest the {guards} found us, put us in a van and drove us back to the fence.",
    "The {guards} caught us near a road, took our phones and walked us back to the Belarusian side.",
    "We walked almost a whole night, but in the morning the {guards} stopped us and opened a gate in the fence to "
    "send us back.",
    "A patrol with a thermal camera saw us; within an hour the {guards} had us back on the other side.",
    "We reached a village and asked a man for water; he called the police, and the {guards} drove us back to the "
    "border.",
    "The {guards} did not ask our names, they only counted us, took photos and pushed us back through the gate.",
]
FORCED = [
    "On the Belarusian side the soldiers did not let us go back to Minsk; they said: go to {country}, or you stay "
    "here in the forest.",
    "The Belarusian guards cut the wire themselves and pushed us through with their shields.",
    "The Belarusian soldiers brought us to another part of the fence at night and told us to cross, otherwise they "
    "would beat us.",
    "When we asked the Belarusian soldiers to let us return to the city, they fired in the air and pointed at the "
    "fence.",
]
VIOLENCE = [
    "One of the officers hit my friend with a baton because he did not stand up fast enough.",
    "They used dogs; a dog bit my leg and the wound was open for two weeks.",
    "They made us lie face down in the snow for a long time, and kicked the ones who lifted their heads.",
    "They sprayed something in our eyes, and I could not see for an hour.",
    "The soldiers beat the men in front of the children and took our money.",
    "They broke our phones with their boots, so we could not call anyone.",
]
DETENTION = [
    "They kept us for {n} days in a tent next to a border station, with one meal a day and no phone.",
    "For {n} days we were in a big warehouse on the Belarusian side, hundreds of people on the concrete floor.",
    "They locked us in a container for {n} days; there was a bucket as a toilet.",
    "We were held at a police station for {n} days and then driven to the border at night.",
]
CLAIM_NR = [
    "I said the word asylum many times, in English and in Russian, but nobody wrote it down.",
    "I showed them a paper where someone had written 'I ask for asylum' in {lang}, and the officer threw it on the "
    "ground.",
    "They gave us a paper in a language I could not read and told us to sign; later a lawyer explained it was a "
    "refusal of entry.",
    "When I asked for asylum, the officer said: not here, not today, go back to Belarus.",
]
CONDITIONS = [
    "At night it was minus fifteen, and we burned wet branches to keep our hands warm.",
    "We drank water from the swamp, and many of us were sick.",
    "There was a pregnant woman in our group who could not walk any more.",
    "We had no food for four days, only some biscuits we shared.",
    "My shoes were wet for weeks, and later the doctor said my toes were almost frozen.",
    "Sometimes we slept in a hole we dug under the trees, close together, to keep warm.",
    "Our phones died; there was one power bank for twelve people.",
    "Someone in the next group died in the forest; I do not know his name.",
    "Villagers on the Belarusian side sold us bread for ten times the price.",
    "Once the {guards} gave us water and bread; that was the only time.",
]


# fmt: off
_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
            "twelve", "thirteen", "fourteen", "fifteen"]
# fmt: on


def _number(n: int) -> str:
    return _NUMBERS[n] if n < len(_NUMBERS) else str(n)


def _duration(days: int) -> str:
    if days < 14:
        return f"about {_number(days)} days"
    if days < 60:
        return f"about {_number(round(days / 7))} weeks"
    months = days / 30.4
    whole = round(months)
    word = ["", "one", "two", "three", "four", "five", "six", "seven", "eight"][whole]
    return f"{'almost ' if months < whole else 'more than '}{word} months"


DURATION = [
    "Altogether I was in the forest between the two fences for {duration}.",
    "From the first time we crossed until the end, it was {duration} at the border.",
    "We stayed in that zone {duration}; I counted the days on my phone while it worked.",
]
ATTEMPTS = [
    "I crossed into {country} maybe {n} times; each time they sent us back.",
    "{N} times, I think; after ten I stopped counting, but my friend wrote it down.",
    "I tried {n} times to cross, and {n} times I was returned.",
]

OUTCOME = {
    "assisted_return": [
        [
            s(
                "In the end I could not continue; I signed up for the return programme and they flew me back to "
                "{home_airport}.",
                "assisted_return",
            ),
            s(
                "After all that I accepted the return programme; they paid the ticket to {home_airport} and gave me "
                "a little money.",
                "assisted_return",
            ),
        ],
        [s("My asylum claim was never registered, not once, in all those months.", "claim_nr")],
        [
            "Now I am at home again, with the same problems as before, and with debts.",
            "My family was happy that I am alive, but nothing is solved.",
        ],
    ],
    "asylum": [
        [
            s(
                "In {month} they finally registered my application; I am in the reception centre now and waiting "
                "for my interview.",
                "asylum",
            ),
            s(
                "The {nth_try} time a border station accepted my application, and since then I am in the procedure.",
                "asylum",
            ),
        ],
        [
            "A lawyer from an organisation explains the steps to me.",
            "I have had one interview; I wait for the second.",
        ],
    ],
    "protection": [
        [
            s("After {months} months I received {status}.", "protection"),
            s("In {month} the decision came: {status}.", "protection"),
        ],
        ["Now I go to language classes and I am looking for work.", "I can finally sleep at night."],
    ],
    "stuck": [
        [
            s(
                "I am still in Belarus, in a flat with five other men; my visa expired a long time ago.",
                "stuck",
            ),
            s("I am in Minsk now, without papers; I work sometimes on building sites for cash.", "stuck"),
        ],
        [s("I cannot go forward and I cannot go back; if the police stop me, they will deport me.", "stuck")],
    ],
}
HOME_AIRPORT = {"iraq_kurd": "Erbil", "yazidi": "Erbil", "syria": "Erbil"}

CLOSING = [
    "People call us economic migrants, or weapons of Belarus; I knew nothing about the politics between Europe "
    "and Belarus, I only wanted to be safe.",
    "I want people to know that we are not soldiers of anybody; we were used by both sides.",
    "I would like Europe to see that every person in the forest has a different story.",
    "Please write that we asked for asylum, many times, and nobody listened.",
    "I am tired. But thank you for listening to all of it.",
]


BEFORE_BORDER = {
    "travel": [
        [
            "In Minsk we stayed in a hotel near the centre for {nights} nights.",
            "In Minsk we rented a flat with two other families for a week.",
        ],
        [
            "Everybody around us was waiting for the same thing: a way to the border.",
            "In the shops people looked at us, but nobody said anything.",
        ],
    ],
    "residence": [
        [
            "In {residence} I worked in a warehouse, twelve hours a day, six days a week.",
            "In {residence} I repaired phones in a market and shared a room with four people.",
        ],
        [
            "The police stopped me often to check my documents, and sometimes they took money.",
            "When the permit ran out, every document check could mean deportation.",
        ],
    ],
}
TO_THE_BORDER = {
    True: s(
        "A taxi driver took us close to the border for {amount_small} dollars and left us at the edge of the "
        "forest.",
        "intermediary",
    ),
    False: "We took a bus to a town near the border and walked from there.",
}
STATE_CONTACT = {
    "belarus_visa": [
        "Only the visa; the consulate did not ask anything, and the agency did the rest.",
        "We did not see anyone from the government until the soldiers at the fence.",
    ],
    "russian_visa": [
        s(
            "No. I never had a Belarusian visa, and I never spoke to a Belarusian official before the border.",
            maybe=("visa_ru",),
        ),
    ],
    "overland": [
        s(
            "No. I never had a Belarusian visa, and I never spoke to a Belarusian official before the soldiers at "
            "the fence.",
            maybe=("visa_none",),
        ),
    ],
    "residence": [
        s("No, I had lived in {residence} for years; nobody sent me anywhere.", maybe=("residence",)),
    ],
}
STATE_MORE = [
    "Later I read in the news that Belarus brought us as a weapon; for me it was just the only door that was open.",
    "The soldiers used us, yes, but they did not bring me; I came because I had to leave.",
    "I did not even know about the sanctions or the politics; I learned it in the forest from other people.",
]
HEALTH = [
    "My feet still hurt when it is cold; two toes were frostbitten.",
    "I cannot sleep well; I dream about the forest.",
    "A psychologist from an organisation talks with me once a week.",
    "I lost eleven kilos in those weeks.",
]
HEALTH_AFTER_VIOLENCE = [
    "A doctor from a volunteer group treated the wound on my leg.",
    "My back hurts since they made us lie on the ground for hours.",
]
HOPES = [
    "I want to finish my studies.",
    "I want my children to go to school without fear.",
    "I want to work, any work, and send something home.",
    "I want papers, only papers, so I can stop running.",
    "I want to see my mother again one day.",
]
DETAIL = [
    [
        "It was in {month_cross}, at night, and it was snowing.",
        "It was a Sunday in {month_cross}; we started walking at two in the morning.",
    ],
    [
        "We were {n} people: families, young men, an old man with a stick.",
        "We were a group of {n}; two of the women had babies.",
    ],
    [
        "We walked for maybe six hours, very slowly, because of the children.",
        "We walked along a stream so the dogs would not smell us.",
    ],
    [s("Then we heard a car and saw lights; the {guards} shouted at us to sit on the ground.", "pb_{c}")],
    [
        "They searched our bags and took the power banks.",
        s("They asked where we come from, but they did not write anything.", maybe=("claim_nr",)),
    ],
    [
        "They drove us in a closed van for an hour; nobody could see where we were going.",
        "They walked us back through the forest for two hours, in a line.",
    ],
    [s("At the fence they opened a small gate and pushed us through, one by one.", "pb_{c}")],
]
DETAIL_FORCED = s(
    "On the other side the Belarusian soldiers were already waiting; they laughed and said: again, again.",
    "forced",
)
DETAIL_END = ["That night we slept in the snow without a fire.", "Two days later we tried again."]

INTERPRETER = [
    "{Pron} asks whether {pron} may answer that in more detail later.",
    "One moment, {pron} needs a short break.",
    "{Pron} asks me to say that {pron} is not sure about the dates.",
]
INTERPRETER_BORDER = [
    "Sorry, {pron} means the Belarusian side, not the {border_adj} side.",
    "{Pron} says it again, because I asked: it was at night, not in the morning.",
    "{Pron} is showing me something on the phone, a photo from the forest.",
]
MONTHS = ["January", "February", "March", "April", "May", "June"]


class Pool:
    """Draws variants without repeating until every variant was used."""

    def __init__(self, rng: random.Random, items) -> None:
        self.rng, self.items, self.left = rng, list(items), []

    def take(self):
        if not self.left:
            self.left = self.items[:]
            self.rng.shuffle(self.left)
        return self.left.pop()


def _fill(seg, **values):
    if isinstance(seg, S):
        return S(seg.text.format(**values), seg.codes, seg.maybe)
    return seg.format(**values)


def crosser_script(p: Profile, rng: random.Random) -> Script:
    """The English (or interpreted-into-English) interview of a border crosser."""
    sc = Script()
    interpreted = p.interview_language != "English"
    pron = "he" if p.gender == "Man" else "she"
    border = [COUNTRY_NAME[c] for c in p.border]
    values = {
        "n": rng.randint(4, 12),
        "kids": rng.choice(["two", "three", "four"]),
        "months": rng.choice(["five", "six", "eight", "ten"]),
        "hub": rng.choice(HUB[p.group]),
        "agency": AGENCY_CITY[p.group]
        if p.route == "belarus_visa"
        else {"Russia": "Moscow", "Belarus": "Minsk"}[p.residence_country],
        "amount": rng.choice(
            ["two thousand", "three thousand", "four thousand", "five thousand", "six thousand"]
        ),
        "residence": p.residence_country,
        "years": rng.choice(["two", "three", "four", "five"]),
        "country": border[0],
        "duration": _duration(p.days),
        "home_airport": HOME_AIRPORT.get(p.group, "home"),
        "month": rng.choice(MONTHS),
        "status": rng.choice(["refugee status", "subsidiary protection"]),
        "nth_try": ORDINAL[p.attempts - 1] if p.attempts <= len(ORDINAL) else "last",
        "pron": pron,
        "Pron": pron.capitalize(),
        "border_adj": LANG_OF[p.border[0]],
        "nights": rng.choice(["three", "four", "five", "ten"]),
        "amount_small": rng.choice(["five hundred", "eight hundred", "one thousand"]),
        "guards": GUARDS[p.border[0]][0],
    }
    interp_pool = Pool(rng, INTERPRETER)

    border_pool = Pool(rng, INTERPRETER_BORDER)

    def interpreter_aside(border: bool = False):
        if interpreted and rng.random() < 0.35:
            sc.x((border_pool if border else interp_pool).take().format(**values))

    # Opening
    sc.q(
        rng.choice(
            [
                f"Thank you for taking the time. As agreed, I will record, and in the transcript you will only be "
                f"called {p.pseudonym}. You can stop at any point.",
                f"Thank you for meeting me. The recording is only for the research team, and your name will not "
                f"appear anywhere; we use the code {p.pseudonym}.",
            ]
        )
    )
    if interpreted:
        sc.x(
            f"I have explained it in {p.interview_language}. {pron.capitalize()} agrees, and asks whether the "
            "recording is kept in a safe place."
        )
        sc.q("Yes, the recording stays on an encrypted drive and is deleted after transcription.")
    sc.a(rng.choice(["Okay. I want to talk; it is important that people know.", "Yes, it is fine. Ask me."]))

    # Background
    sc.q(
        rng.choice(
            [
                "Could you start by telling me a little about yourself and your life before you left?",
                "Tell me about your life at home, before all of this.",
            ]
        )
    )
    bg = [_fill(rng.choice(slot), **values) for slot in BACKGROUND[p.persona]]
    if rng.random() < 0.5:
        bg.insert(0, f"I am from {rng.choice(HOMETOWN[p.persona])}.")
    sc.a(*bg, _fill(rng.choice(FAMILY[p.gender]), **values))
    interpreter_aside()

    # Persecution
    sc.q(
        rng.choice(
            [
                f"Why did you decide to leave {COUNTRY_OF[p.group]}?",
                "What made you leave?",
                "When did you understand that you had to leave?",
            ]
        )
    )
    slots = PERSECUTION[p.persona]
    first = [_fill(rng.choice(slot), **values) for slot in slots[:2]]
    # An answer that is about persecution as a whole carries the Convention ground
    # as a "maybe" for both coders: some code the answer, some the sentence.
    sc.a(*first)
    if len(slots) > 2:
        sc.q(rng.choice(["Can you say more about that?", "What happened then?"]))
        sc.a(*[_fill(rng.choice(slot), **values) for slot in slots[2:]])

    # Earlier routes
    if p.prior:
        sc.q("Was Belarus your first attempt to reach Europe?")
        segs = [rng.choice(PRIOR[c]) for c in p.prior]
        if "earlier_failed" in p.reasons:
            segs.append(rng.choice(REASONS["earlier_failed"]))
        sc.a("No.", *segs)
    elif rng.random() < 0.5:
        sc.q("Had you tried to travel to Europe before?")
        sc.a(f"No, this was the first time I left {COUNTRY_OF[p.group]}.")

    # Reason for the route
    reasons = [r for r in p.reasons if not (r == "earlier_failed" and p.prior)]
    if reasons:
        sc.q(rng.choice(["Why did you choose the way through Belarus?", "Why Belarus?"]))
        sc.a(*[rng.choice(REASONS[r]) for r in reasons])

    # The route
    sc.q(rng.choice(["How did you travel to Belarus?", "How did you get to Belarus?"]))
    segs = [_fill(rng.choice(ROUTE[p.route]), **values)]
    if p.intermediary:
        key = "belarus_visa" if p.route == "belarus_visa" else "other"
        segs.append(_fill(rng.choice(INTERMEDIARY[key]), **values))
    segs.append(rng.choice(ROUTE_MORE[p.route]))
    if p.emoji and p.pseudonym == "LV-06":
        segs.append(EMOJI_MESSAGES[0])
    sc.a(*segs)
    interpreter_aside()

    if p.days > 30 or rng.random() < 0.4:
        sc.q(
            rng.choice(
                ["What happened before you went to the border?", "How was your time in Belarus before?"]
            )
        )
        before = BEFORE_BORDER["residence" if p.route == "residence" else "travel"]
        segs = [_fill(rng.choice(slot), **values) for slot in before]
        segs.append(_fill(TO_THE_BORDER[p.intermediary], **values))
        sc.a(*segs)

    # The border: episodes
    sc.q(
        rng.choice(
            ["What happened when you reached the border?", "Tell me about the first time you crossed."]
        )
    )
    pushback, forced, violence = Pool(rng, PUSHBACK), Pool(rng, FORCED), Pool(rng, VIOLENCE)
    detention, claim, start = Pool(rng, DETENTION), Pool(rng, CLAIM_NR), Pool(rng, EPISODE_START)
    conditions = Pool(rng, [c.format(guards=values["guards"]) for c in CONDITIONS])
    # Without "claim not registered", the last attempt is the one where the claim was registered.
    episodes = min(
        max(1, p.attempts - (0 if p.claim_nr else 1)), rng.randint(2 + p.days // 60, 3 + min(p.days // 25, 7))
    )
    claim_told = detention_told = False
    for k in range(episodes):
        if k:
            sc.q(rng.choice(EPISODE_PROMPT))
        country = p.border[k % len(p.border)]
        vals = dict(values, ord=ORDINAL[k], n=rng.randint(5, 30), guards=rng.choice(GUARDS[country]))
        segs = [start.take().format(**vals)]
        segs.append(s(pushback.take().format(**vals), f"pb_{country}"))
        if p.violence and rng.random() < 0.6:
            segs.append(s(violence.take(), "violence"))
        if p.claim_nr and (not claim_told or rng.random() < 0.3):
            segs.append(s(claim.take().format(lang=LANG_OF[country]), "claim_nr"))
            claim_told = True
        if p.forced and rng.random() < 0.7:
            segs.append(s(forced.take().format(country=COUNTRY_NAME[country]), "forced"))
        if p.detention and not detention_told and rng.random() < 0.5:
            segs.append(s(detention.take().format(n=_number(rng.randint(2, 14))), "detention"))
            detention_told = True
        segs.append(conditions.take())
        # A long pushback story is one event of violence as a whole, for some coders.
        sc.a(*segs, whole_maybe=("violence",) if p.violence and len(segs) > 4 else ())
        interpreter_aside(border=True)

    sc.q(rng.choice(["How many times did you try to cross, altogether?", "How many attempts were there?"]))
    main = p.border[0]
    if p.claim_nr:
        options = ATTEMPTS if p.attempts > 10 else [a for a in ATTEMPTS if "after ten" not in a]
        attempts = rng.choice(options).format(
            country=COUNTRY_NAME[main], n=_number(p.attempts), N=_number(p.attempts).capitalize()
        )
    else:
        attempts = f"I crossed {_number(p.attempts)} times; every time before the last they sent me back."
    sc.a(
        s(attempts, f"pb_{main}"),
        *[s(f"The {GUARDS[c][0]} also sent us back, more than once.", f"pb_{c}") for c in p.border[1:]],
    )
    sc.q(rng.choice(["How long were you in the border area?", "How long did all of this last?"]))
    sc.a(s(rng.choice(DURATION).format(**values), "weeks"), conditions.take(), conditions.take())

    if p.claim_nr or p.outcome in ("asylum", "protection"):
        sc.q("Did you ask for asylum at the border?")
        if p.claim_nr:
            sc.a("Yes, every time.", s(claim.take().format(lang=LANG_OF[main]), "claim_nr"))
        else:
            sc.a(
                s(
                    f"Yes; the {values['nth_try']} time they took us to a station and registered the application.",
                    "asylum",
                )
            )
    if p.detention and not detention_told:
        sc.q("Were you held anywhere, in a closed place?")
        sc.a(s(detention.take().format(n=_number(rng.randint(2, 20))), "detention"), conditions.take())

    if p.days >= 90:
        sc.q("Can you describe one of the pushbacks in detail, from the beginning?")
        c = p.border[0]
        vals = dict(
            values, c=c, n=rng.randint(8, 25), month_cross=rng.choice(["November", "December", "January"])
        )
        segs = [_fill(rng.choice(slot), **vals) for slot in DETAIL]
        segs = [
            S(seg.text, tuple(k.format(c=c) for k in seg.codes), seg.maybe) if isinstance(seg, S) else seg
            for seg in segs
        ]
        if p.forced:
            segs.append(DETAIL_FORCED)
        segs.append(rng.choice(DETAIL_END))
        sc.a(*segs, whole_maybe=("violence",) if p.violence else ())
        interpreter_aside()

    sc.q("Did anyone from the Belarusian state help to organise your journey?")
    sc.a(*[_fill(seg, **values) for seg in STATE_CONTACT[p.route]], rng.choice(STATE_MORE))

    # Daily life, for longer stays
    if p.days > 45 or p.emoji:
        sc.q("How did you survive in the forest?")
        sc.a(conditions.take(), conditions.take())
        sc.q("How did you keep contact with your family?")
        segs = rng.sample(FAMILY_CONTACT, 2)
        if p.emoji and p.pseudonym == "LV-28":
            segs.insert(1, EMOJI_MESSAGES[1])
        sc.a(*segs)

    # Outcome
    sc.q(rng.choice(["Where are you now, and what happened with your case?", "And how did it end?"]))
    segs = []
    for slot in OUTCOME[p.outcome]:
        seg = _fill(rng.choice(slot), **values)
        if (
            p.outcome == "assisted_return"
            and not p.claim_nr
            and isinstance(seg, S)
            and "claim_nr" in seg.codes
        ):
            continue
        segs.append(seg)
    sc.a(*segs)
    interpreter_aside()

    if p.days > 60 or p.outcome in ("asylum", "protection") and rng.random() < 0.5:
        sc.q("How is your health after all this?")
        sc.a(*rng.sample(HEALTH + (HEALTH_AFTER_VIOLENCE if p.violence else []), 2))
        sc.q("What do you hope for now?")
        sc.a(*rng.sample(HOPES, rng.randint(1, 2)))

    sc.q("Is there anything you would like to add?")
    sc.a(rng.choice(CLOSING))
    sc.q("Thank you very much.")
    return sc


def follow_up_script(p: Profile, rng: random.Random) -> Script:
    """A short second interview some months later."""
    sc = Script()
    sc.q(f"This is our second conversation, {p.pseudonym}. How are things since we last spoke?")
    if p.outcome == "stuck":
        sc.a(
            s(
                "I am still in Minsk; twice more I went to the border and twice more they sent me back.",
                "stuck",
                "pb_latvia",
            ),
            s(
                "The last time, the Belarusian soldiers took our money and drove us to the fence again.",
                "forced",
                maybe=("violence",),
            ),
            "Now I do not try any more; I wait.",
        )
        sc.q("Did you try to apply anywhere else?")
        sc.a(
            s(
                "I wrote to a lawyer in Latvia, but they said they cannot help if I am not on their territory.",
                "no_legal_route",
            )
        )
    else:
        sc.a(
            s(
                "I am back in Iraq, in the camp again, since the return programme flew me back.",
                "assisted_return",
            ),
            s(
                "At the border I asked for asylum more times than I can count, and there is no paper that says so.",
                "claim_nr",
            ),
            "My children ask me every day when we try again.",
        )
        sc.q("Would you try again?")
        sc.a(
            "I do not know. I think about it every day.",
            s("In the camp there is nothing, and Sinjar is still not safe for us.", maybe=("isis",)),
        )
    sc.q("Thank you for speaking with me again.")
    return sc


# ------------------------------------------------------------------ original-language interviews
#
# Each is stored twice: in the language it was held in (Arabic, Sorani in
# Arabic script, Kurmanji in Latin script) and as a separate English
# translation. Sentences are aligned, so both versions carry the same codes.
# (role, [(original, English, codes, maybe), ...])

_Q, _A = "interviewer", "participant"

ORIGINALS = {
    "arabic": [
        (
            _Q,
            [
                (
                    "شكراً لأنك وافقت على المقابلة. سنستخدم اسماً مستعاراً، ويمكنك التوقف في أي وقت.",
                    "Thank you for agreeing to the interview. We will use a pseudonym, and you can stop at any time.",
                    (),
                    (),
                )
            ],
        ),
        (
            _A,
            [
                (
                    "لا مشكلة، أريد أن يعرف الناس ما حدث لنا.",
                    "No problem, I want people to know what happened to us.",
                    (),
                    (),
                )
            ],
        ),
        (_Q, [("لماذا غادرت سوريا؟", "Why did you leave Syria?", (), ())]),
        (
            _A,
            [
                (
                    "كان عمري اثنين وعشرين عاماً عندما وصلني طلب الالتحاق بالخدمة العسكرية.",
                    "I was twenty-two when my call-up for military service arrived.",
                    ("military",),
                    (),
                ),
                (
                    "لم أكن أريد أن أحمل السلاح ضد أهلي، والذي يرفض يُعتبر خائناً.",
                    "I did not want to carry a weapon against my own people, and whoever refuses is seen as a traitor.",
                    ("political",),
                    (),
                ),
                (
                    "اختبأت في بيت خالتي ثمانية أشهر ولم أخرج إلى الشارع.",
                    "I hid in my aunt's house for eight months and did not go out into the street.",
                    (),
                    ("military",),
                ),
            ],
        ),
        (_Q, [("لماذا اخترت هذا الطريق؟", "Why did you choose this route?", (), ())]),
        (
            _A,
            [
                (
                    "لا يوجد طريق قانوني لشاب مثلي، السفارات مغلقة في وجوهنا.",
                    "There is no legal route for a young man like me; the embassies are closed to us.",
                    ("no_legal_route",),
                    (),
                ),
                (
                    "وقالوا إنه أسهل وأكثر أماناً من البحر.",
                    "And they said it was easier and safer than the sea.",
                    ("safer",),
                    (),
                ),
            ],
        ),
        (_Q, [("كيف وصلت إلى بيلاروسيا؟", "How did you get to Belarus?", (), ())]),
        (
            _A,
            [
                (
                    "دفعنا لمكتب سفريات في دمشق ثلاثة آلاف دولار مقابل الفيزا السياحية والفندق.",
                    "We paid a travel agency in Damascus three thousand dollars for the tourist visa and the hotel.",
                    ("visa_by", "intermediary"),
                    (),
                ),
                (
                    "سافرنا بالطائرة إلى مينسك في تشرين الأول، وكانت الطائرة مليئة بأشخاص مثلنا.",
                    "We flew to Minsk in October, and the plane was full of people like us.",
                    (),
                    (),
                ),
            ],
        ),
        (_Q, [("ماذا حدث على الحدود؟", "What happened at the border?", (), ())]),
        (
            _A,
            [
                (
                    "عبرنا إلى لاتفيا تسع مرات، وفي كل مرة أعادنا حرس الحدود اللاتفي إلى الغابة.",
                    "We crossed into Latvia nine times, and each time the Latvian border guards returned us to the forest.",
                    ("pb_latvia",),
                    (),
                ),
                (
                    "قلت لهم بالإنجليزية: أريد اللجوء، لكنهم لم يكتبوا شيئاً.",
                    "I told them in English: I want asylum, but they did not write anything down.",
                    ("claim_nr",),
                    (),
                ),
                (
                    "وعلى الجانب البيلاروسي ضربنا الجنود بالعصي وأجبرونا على العبور من جديد.",
                    "And on the Belarusian side the soldiers beat us with sticks and forced us to cross again.",
                    ("violence", "forced"),
                    (),
                ),
                (
                    "بقينا في الغابة أربعين يوماً، وكان البرد شديداً جداً.",
                    "We stayed in the forest for forty days, and the cold was very harsh.",
                    ("weeks",),
                    (),
                ),
            ],
        ),
        (_Q, [("هل كنت على تواصل مع عائلتك؟", "Were you in contact with your family?", (), ())]),
        (
            _A,
            [
                (
                    "أرسل لي أخي رسالة: «لا تتحرك، انتظر الصباح 🙏».",
                    "My brother sent me a message: “Don't move, wait for the morning 🙏”.",
                    (),
                    (),
                ),
                (
                    "وأمسكنا حرس الحدود الليتواني مرتين أيضاً واحتجزونا يومين في خيمة.",
                    "The Lithuanian border guards also caught us twice and held us for two days in a tent.",
                    ("pb_lithuania", "detention"),
                    (),
                ),
            ],
        ),
        (_Q, [("وأين أنت الآن؟", "And where are you now?", (), ())]),
        (
            _A,
            [
                (
                    "الآن أنا في مركز في لاتفيا، وقدمت طلب اللجوء أخيراً في شهر كانون الثاني.",
                    "Now I am in a centre in Latvia, and I finally lodged my asylum application in January.",
                    ("asylum",),
                    (),
                ),
                ("ما زلت أنتظر القرار.", "I am still waiting for the decision.", (), ()),
            ],
        ),
    ],
    "sorani": [
        (
            _Q,
            [
                (
                    "سوپاس بۆ ئەوەی ڕازی بوویت بەشداری لەم چاوپێکەوتنە بکەیت. ناوی ڕاستەقینەت بەکارناهێنین.",
                    "Thank you for agreeing to take part in this interview. We will not use your real name.",
                    (),
                    (),
                )
            ],
        ),
        (_A, [("باشە، کێشە نییە.", "Okay, no problem.", (), ())]),
        (_Q, [("بۆچی کوردستانت بەجێهێشت؟", "Why did you leave Kurdistan?", (), ())]),
        (
            _A,
            [
                (
                    "گرووپێکی چەکدار هەڕەشەی کوشتنیان لێ کردم، چونکە ئامادە نەبووم لەگەڵیان کار بکەم.",
                    "An armed group threatened to kill me, because I was not willing to work with them.",
                    ("armed_groups",),
                    (),
                ),
                ("پۆلیس هیچ یارمەتییەکی نەدام.", "The police gave me no help at all.", (), ("armed_groups",)),
            ],
        ),
        (_Q, [("چۆن گەیشتیتە بێلاڕووس؟", "How did you get to Belarus?", (), ())]),
        (
            _A,
            [
                (
                    "لە ئۆفیسێکی گەشتیاری لە هەولێر ڤیزەی گەشتیاریمان کڕی، بە چوار هەزار دۆلار.",
                    "We bought a tourist visa from a travel office in Erbil, for four thousand dollars.",
                    ("visa_by", "intermediary"),
                    (),
                ),
                ("بە فڕۆکە چووینە مینسک.", "We flew to Minsk.", (), ()),
                (
                    "خەڵک دەیانگوت ئەم ڕێگایە لە دەریا سەلامەتترە.",
                    "People said this route was safer than the sea.",
                    ("safer",),
                    (),
                ),
            ],
        ),
        (_Q, [("لەسەر سنوور چی ڕوویدا؟", "What happened at the border?", (), ())]),
        (
            _A,
            [
                (
                    "سێ مانگ لە دارستانەکەدا ماینەوە.",
                    "We stayed in the forest for three months.",
                    ("weeks",),
                    (),
                ),
                (
                    "پاسەوانی سنووری لیتوانیا چەند جارێک گەڕاندینیانەوە بۆ بێلاڕووس.",
                    "The Lithuanian border guards sent us back to Belarus several times.",
                    ("pb_lithuania",),
                    (),
                ),
                (
                    "داوای پەنابەریم کرد، بەڵام گوێیان لێ نەگرتم.",
                    "I asked for asylum, but they did not listen to me.",
                    ("claim_nr",),
                    (),
                ),
                (
                    "سەربازە بێلاڕووسییەکان سەگیان بەردایە سەرمان و ناچاریان کردین دیسان بپەڕینەوە.",
                    "The Belarusian soldiers set dogs on us and forced us to cross again.",
                    ("violence", "forced"),
                    (),
                ),
            ],
        ),
        (_Q, [("لە کۆتاییدا چی ڕوویدا؟", "What happened in the end?", (), ())]),
        (
            _A,
            [
                (
                    "لە کۆتاییدا بە پڕۆگرامی گەڕانەوەی خۆبەخشانە گەڕامەوە بۆ عێراق.",
                    "In the end I went back to Iraq through the voluntary return programme.",
                    ("assisted_return",),
                    (),
                ),
                (
                    "ئێستا دیسان لە ماڵەوەم، بەڵام هەڕەشەکان هێشتا هەن.",
                    "Now I am at home again, but the threats are still there.",
                    (),
                    ("armed_groups",),
                ),
            ],
        ),
    ],
    "kurmanji": [
        (
            _Q,
            [
                (
                    "Spas ji bo ku te qebûl kir ku beşdarî vê hevpeyvînê bibî. Em ê navê te yê rastî bi kar neynin.",
                    "Thank you for agreeing to take part in this interview. We will not use your real name.",
                    (),
                    (),
                )
            ],
        ),
        (_A, [("Baş e, ez dixwazim çîroka xwe bibêjim.", "Fine, I want to tell my story.", (), ())]),
        (_Q, [("Tu çima ji Iraqê derketî?", "Why did you leave Iraq?", (), ())]),
        (
            _A,
            [
                (
                    "Em Êzidî ne, û di sala 2014an de DAIŞ êrîşî Şengalê kir.",
                    "We are Yazidis, and in 2014 ISIS attacked Sinjar.",
                    ("isis", "religion"),
                    (),
                ),
                (
                    "Bavê min û du birayên min hatin kuştin.",
                    "My father and two of my brothers were killed.",
                    ("isis",),
                    (),
                ),
                (
                    "Heft salan em li kampekê li nêzîkî Dihokê man, di konekî de.",
                    "For seven years we lived in a camp near Duhok, in a tent.",
                    (),
                    (),
                ),
            ],
        ),
        (
            _Q,
            [
                (
                    "Te çawa biryar da ku bi rêya Belarûsê biçî?",
                    "How did you decide to go via Belarus?",
                    (),
                    (),
                )
            ],
        ),
        (
            _A,
            [
                (
                    "Ji bo me rêyeke qanûnî tune bû.",
                    "There was no legal route for us.",
                    ("no_legal_route",),
                    (),
                ),
                (
                    "Me bihîst ku Belarûs vîzeya turîstî dide, û ajansekê ji me re vîze çêkir.",
                    "We heard that Belarus was giving tourist visas, and an agency arranged the visa for us.",
                    ("visa_by", "intermediary"),
                    (),
                ),
            ],
        ),
        (_Q, [("Li ser sînor çi qewimî?", "What happened at the border?", (), ())]),
        (
            _A,
            [
                (
                    "Pênc hefteyan em di daristanê de man, di berf û sermayê de.",
                    "For five weeks we stayed in the forest, in the snow and cold.",
                    ("weeks",),
                    (),
                ),
                (
                    "Leşkerên Latvyayê em girtin û şeş rojan em di konteynerekê de hiştin.",
                    "The Latvian soldiers caught us and kept us in a container for six days.",
                    ("detention",),
                    (),
                ),
                (
                    "Paşê wan em vegerandin sînorê Belarûsê.",
                    "Then they took us back to the Belarusian border.",
                    ("pb_latvia",),
                    (),
                ),
                (
                    "Leşkerên Belarûsê em dan ber lêdanê û gotin: herin, dîsa derbas bibin!",
                    "The Belarusian soldiers beat us and said: go, cross again!",
                    ("violence", "forced"),
                    (),
                ),
                (
                    "Min çend caran got ku ez penaberiyê dixwazim, lê kesî guh neda.",
                    "Several times I said that I want asylum, but nobody listened.",
                    ("claim_nr",),
                    (),
                ),
            ],
        ),
        (_Q, [("Niha tu li ku yî?", "Where are you now?", (), ())]),
        (
            _A,
            [
                (
                    "Niha ez li Latvyayê me û min parastina navneteweyî wergirt.",
                    "Now I am in Latvia and I have received international protection.",
                    ("protection",),
                    (),
                ),
                ("Lê dayika min hîn jî li kampê ye.", "But my mother is still in the camp.", (), ()),
            ],
        ),
    ],
}


def original_scripts(kind: str) -> tuple[Script, Script]:
    """The original-language interview and its English translation, sentence-aligned."""
    original, english = Script(), Script()
    for role, sentences in ORIGINALS[kind]:
        for script, column in ((original, 0), (english, 1)):
            segs = [S(row[column], tuple(row[2]), tuple(row[3])) for row in sentences]
            (script.q if role == _Q else script.a)(*segs)
    return original, english


# ------------------------------------------------------------------ NGO staff, volunteers, lawyers

ROLE_INTRO = {
    "ngo_staff": [
        "I coordinate the legal and humanitarian work of our organisation; we are a small team, five people.",
        "I work for a human rights organisation; I started as a volunteer and now I run the helpline.",
    ],
    "volunteer": [
        "I am a volunteer; during the week I study, and at weekends I went to the border area with a group.",
        "I volunteered with a local group of residents who started to help when people appeared in the forest.",
    ],
    "lawyer": [
        "I am an advocate; most of my practice is migration and asylum cases.",
        "I have worked as a lawyer for seventeen years, in the last ten mostly on asylum.",
    ],
}
FIRST_SEEN = [
    "From August 2021 we received calls from people in the forest almost every day; they sent their location "
    "and photos of frozen feet.",
    "The first messages came in August: a family of six, a child with fever, and no way to reach them.",
    "At first it was a few groups a week, and by October we could not answer all the calls.",
]
OBSERVED = {
    "pushback": [
        s(
            "People told us again and again that the {guards} drove them back to the fence, often at night.",
            "pb_{c}",
        ),
        s(
            "We met a family who had been pushed back eleven times by the {guards}; the child had a fever.",
            "pb_{c}",
        ),
        s(
            "When we called an ambulance, sometimes the {guards} came first and took the people back to the "
            "fence.",
            "pb_{c}",
            maybe=("claim_nr",),
        ),
    ],
    "forced": [
        s(
            "On the Belarusian side, people described soldiers who would not let them go back to Minsk and drove "
            "them to the fence again.",
            "forced",
        ),
        s(
            "Almost every person said the Belarusian guards made them cross again, sometimes with dogs.",
            "forced",
            maybe=("violence",),
        ),
    ],
    "violence": [
        s("Several people showed us wounds from batons and dog bites.", "violence"),
        s(
            "We documented broken phones, injuries from beatings and people who had been sprayed in the face.",
            "violence",
        ),
    ],
    "claim_nr": [
        s(
            "Under the emergency rules the border guard could refuse entry without registering an application, and "
            "there was no effective remedy.",
            "claim_nr",
        ),
        s(
            "People said the word asylum, wrote it on paper, showed it on their phones, and it was not registered.",
            "claim_nr",
        ),
        s(
            "We sent requests for interim measures, and even then, in some cases, the people were returned.",
            "claim_nr",
        ),
    ],
    "weeks": [
        s(
            "Some people were in that zone between the fences for months; the longest I know was about seven "
            "months.",
            "weeks",
        ),
        s("Many were in the forest for weeks, moving between the two sides, with no shelter.", "weeks"),
    ],
    "detention": [
        s(
            "Detention was used almost automatically once a claim was registered, in containers or in closed "
            "centres.",
            "detention",
        ),
        s("Families with children were held in a closed centre for months.", "detention"),
    ],
    "assisted_return": [
        s(
            "Some people were offered the return programme before they had seen a lawyer; for people from Iraq "
            "it was presented as the only way out.",
            "assisted_return",
        ),
        s(
            "Many of the Iraqi Kurds we met in the end took the return programme, after months in the forest.",
            "assisted_return",
            maybe=("weeks",),
        ),
    ],
    "protection": [
        s(
            "Recognition rates differed a lot by nationality: Afghans and Syrians mostly got protection, Iraqis "
            "much less.",
            "protection",
        ),
        s(
            "Of the people who managed to lodge a claim, a good part were granted protection in the end.",
            "protection",
            maybe=("asylum",),
        ),
    ],
}
PROFILES_SEEN = [
    s(
        "They were not one group: Afghans who had worked with the army, Syrians escaping the draft, Yazidi families, "
        "Iranians who had been in prison.",
        maybe=("taliban", "military"),
    ),
    s(
        "Some came on tourist visas through agencies, but we also met people who had lived in Russia for years, "
        "and people who walked from Central Asia.",
        maybe=("visa_by", "residence", "visa_none"),
    ),
    s(
        "I met many people who had been pushed back before, from Turkey and from Greece; for them Belarus was "
        "the next door.",
        maybe=("earlier_failed",),
    ),
]
STATISTICS = [
    "The official figures count attempts, not people; one man can be twenty prevented crossings.",
    "When the ministry says thousands of attempts, you must ask how many persons; we think the number of people "
    "was much smaller.",
    "Each return is counted as one prevented crossing, so the same family appears in the statistics ten times.",
]
CASES = [
    (
        "a man from Afghanistan who had worked for the army",
        s("He had been pushed back {n} times before he could register his claim.", "pb_{c}"),
    ),
    (
        "a Yazidi woman with two children",
        s(
            "She asked for asylum in front of us, and the officers still returned her to the fence.",
            "claim_nr",
            "pb_{c}",
        ),
    ),
    (
        "a young Syrian who had escaped the draft",
        s("He spent almost three months in the forest; his feet were frostbitten.", "weeks"),
    ),
    (
        "an Iraqi Kurd, a driver, threatened by a militia",
        s(
            "After months of this he signed the return papers, and I do not know what happened to him.",
            "assisted_return",
        ),
    ),
    (
        "a Cuban man who came through Russia without a visa",
        s(
            "He never had any contact with the Belarusian state before the soldiers at the fence.",
            "visa_none",
        ),
    ),
]
LAW = [
    "The law of August 2021 allowed the border guard to return people without examining any claim.",
    "In our view this was contrary to the principle of non-refoulement and to the Asylum Procedures Directive.",
    "Courts were slow; by the time a complaint was examined, the person had long been returned.",
]
OVER_TIME = [
    "Later the emergency zone closed, and we could not go in any more; we only had phone contact.",
    "We started to record every call in a table: date, location, size of the group, what happened.",
    "Our volunteers were stopped by the police and asked for documents several times.",
    "By winter we had a network of doctors who would answer at night.",
]
LAWYER_OVER_TIME = [
    "Later we could meet clients only once they were in detention or in a closed centre.",
    "We started to file complaints systematically, even knowing they would come too late.",
    "From the spring, at least, claims made inside the country were registered.",
]
PERSONAL = [
    "Some nights I did not sleep; the phone rang at three in the morning.",
    "It was the first time I saw my own state do something like this.",
    "We burned out; by February half of the team had stopped.",
    "I still have the voice messages on my phone; I cannot delete them.",
]
NGO_CLOSING = [
    "For me the word instrumentalisation hides the people; every one of them had a story and a reason.",
    "The question is not who sent them, but what they were fleeing, and nobody at the border asked that.",
    "I hope research like yours counts people and not only events.",
]


TOPIC_PROMPT = {
    "pushback": "What about the returns themselves?",
    "forced": "And on the Belarusian side?",
    "violence": "Did people report violence?",
    "claim_nr": "What happened to asylum claims at the border?",
    "weeks": "How long did people stay in the border area?",
    "detention": "Was anyone detained?",
    "protection": "How were the claims decided, in the end?",
    "assisted_return": "What about the return programme?",
}


def other_script(p: Profile, rng: random.Random) -> Script:
    """An interview with NGO staff, a volunteer or a lawyer about what they saw."""
    sc = Script()
    c = p.border[0]
    guards = rng.choice(GUARDS[c])

    def fill(seg):
        return S(
            seg.text.format(guards=guards, c=c, n=rng.randint(6, 25)),
            tuple(code.format(c=c) for code in seg.codes),
            tuple(code.format(c=c) for code in seg.maybe),
        )

    interpreted = p.interview_language != "English"
    sc.q(
        f"Thank you for agreeing to talk. In the transcript you will be {p.pseudonym}; please do not name the "
        "people you helped."
    )
    if interpreted:
        sc.x(f"I translate from {p.interview_language}. She agrees.")
    sc.a("Of course.", rng.choice(ROLE_INTRO[p.participant_type]))
    sc.q(
        "When did you first meet clients who had come through Belarus?"
        if p.participant_type == "lawyer"
        else "When did you first meet people who had come through Belarus?"
    )
    sc.a(rng.choice(FIRST_SEEN), "We did not have any experience with something like this.")
    sc.q("What did people tell you about the border?")
    order = ["pushback", "forced", "violence", "claim_nr", "weeks", "detention"]
    if p.participant_type == "lawyer":
        order = ["claim_nr", "pushback", "detention", "weeks", "protection", "assisted_return"]
    generic = Pool(rng, ["Can you say more?", "And what else did you see?", "What else did people tell you?"])
    for n, topic in enumerate(order):
        if n:
            sc.q(TOPIC_PROMPT[topic] if rng.random() < 0.6 else generic.take())
        options = OBSERVED[topic][:]
        rng.shuffle(options)
        sc.a(*[fill(seg) for seg in options[: rng.randint(1, 2)]])
    sc.q("How did your work change over the months?")
    sc.a(*rng.sample(LAWYER_OVER_TIME if p.participant_type == "lawyer" else OVER_TIME, 2))
    sc.q("Who were the people you met?")
    sc.a(*rng.sample(PROFILES_SEEN, 2))
    sc.q("Can you describe one or two cases, without names?")
    for who, seg in rng.sample(CASES, rng.randint(3, 4)):
        sc.a(f"I remember {who}.", fill(seg))
        sc.q(rng.choice(["And another?", "Thank you. Another one?"]))
    sc.a("That is enough for now, I think.")
    if p.participant_type == "lawyer":
        sc.q("What was the legal situation?")
        sc.a(*LAW)
    sc.q("The governments speak of instrumentalisation. What do the numbers show?")
    sc.a(*rng.sample(STATISTICS, 2))
    if p.participant_type != "lawyer":
        sc.q("Where did the people end up?")
        sc.a(
            *[
                fill(seg)
                for seg in [rng.choice(OBSERVED["assisted_return"]), rng.choice(OBSERVED["protection"])]
            ]
        )
    sc.q("What was it like for you personally?")
    sc.a(*rng.sample(PERSONAL, 2))
    sc.q("Is there anything you would like to add?")
    sc.a(rng.choice(NGO_CLOSING))
    return sc


# ------------------------------------------------------------------ two coders

CODER_COMMENTS = [
    "Participant unsure about the number.",
    "Counted as one event although several returns are described.",
    "Borderline: see the code memo.",
    "Interpreter's wording; check against the recording.",
]


def _shifted(tr: Transcript, mark: Mark, rng: random.Random) -> tuple[int, int]:
    """The same passage as a second coder might select it: a sentence more or a few characters less."""
    bounds = tr.sentences[mark.turn]
    options = []
    following = [b for b in bounds if b[0] > mark.end]
    if following:
        options.append((mark.start, following[0][1]))
    preceding = [b for b in bounds if b[1] < mark.start]
    if preceding:
        options.append((preceding[-1][0], mark.end))
    quote = tr.text[mark.start : mark.end]
    if len(quote) > 1 and quote[-1] in ".!?":
        options.append((mark.start, mark.end - 1))
    comma = quote.find(", ")
    if 0 < comma < len(quote) // 2:
        options.append((mark.start + comma + 2, mark.end))
    return rng.choice(options) if options else (mark.start, mark.end)


def coder_passages(tr: Transcript, rng: random.Random, *, second: bool) -> list[tuple[int, int, str, str]]:
    """(start, end, code key, comment) for one coder; ``second`` is the less exact coder."""
    chosen: dict[tuple[int, int, str], str] = {}
    for mark in tr.marks:
        start, end, code = mark.start, mark.end, mark.code
        if not mark.sure:
            # A borderline passage: both coders lean the same way three times in four.
            leaning = random.Random(f"{SEED}:{mark.start}:{mark.end}:{code}").random() < 0.5
            applies = leaning if not second or rng.random() < 0.75 else not leaning
            if not applies:
                continue
        elif second:
            r = rng.random()
            if r < 0.06:
                continue  # missed
            if r < 0.17:
                start, end = _shifted(tr, mark, rng)
            elif r < 0.21 and code in _CONFUSABLE:
                code = _CONFUSABLE[code]
        comment = rng.choice(CODER_COMMENTS) if rng.random() < 0.03 else ""
        chosen.setdefault((start, end, code), comment)
    return sorted((start, end, code, comment) for (start, end, code), comment in chosen.items())


# ------------------------------------------------------------------ loading


@dataclass
class DemoResult:
    created: bool
    project: Project
    counts: dict


def _demo_project() -> Project | None:
    return (
        Project.objects.filter(
            name=DEMO_PROJECT_NAME, memberships__user__username=DEMO_USERS[0][0], memberships__role=Role.OWNER
        )
        .order_by("id")
        .first()
    )


def demo_counts(project: Project) -> dict:
    interviews = list(project.interviews.values_list("text", flat=True))
    per_coder = dict(
        Coding.objects.filter(project=project)
        .values_list("coder__username")
        .annotate(n=Count("id"))
        .order_by("coder__username")
    )
    return {
        "participants": project.participants.count(),
        "interviews": len(interviews),
        "words": sum(len(text.split()) for text in interviews),
        "codes": project.codes.filter(is_codable=True).count(),
        "folders": project.codes.filter(is_codable=False).count(),
        "codings": per_coder,
        "memos": project.memos.count(),
        "assignments": project.assignments.count(),
    }


def load_demo(*, reset: bool = False) -> DemoResult:
    """Create the demo project unless it exists; with ``reset``, delete it and build it again.

    Runs in one transaction: either the whole demo is there or nothing changed.
    """
    with transaction.atomic():
        existing = _demo_project()
        if existing is not None and not reset:
            return DemoResult(False, existing, demo_counts(existing))
        if existing is not None:
            interview_services.delete_project(project=existing)
        # One summary event for the demo, not one per code, coding and memo.
        with audit.summarised():
            project = _build(_demo_users())
        counts = demo_counts(project)
        audit.record(
            project=project,
            action="project.demo_loaded",
            target_type="project",
            target_id=project.pk,
            after={key: value for key, value in counts.items() if key != "words"},
        )
        return DemoResult(True, project, counts)


def _demo_users() -> dict:
    User = get_user_model()
    users = {}
    for username, password, _role, _label in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        validate_password(password, user)
        user.set_password(password)
        user.save()
        users[username] = user
    return users


def _create_codes(project: Project, entries, parent, colour: str, codes: dict) -> None:
    for order, entry in enumerate(entries):
        if len(entry) == 4:  # a folder: name, colour, definition, children
            name, folder_colour, definition, children = entry
            folder = coding_services.create_code(
                project=project,
                name=name,
                parent=parent,
                colour=folder_colour,
                definition=definition,
                is_codable=False,
                order=order,
            )
            _create_codes(project, children, folder, folder_colour, codes)
            continue
        key, name, shortcut, definition, inclusion, exclusion, example = entry
        codes[key] = coding_services.create_code(
            project=project,
            name=name,
            parent=parent,
            colour=colour,
            definition=definition,
            inclusion_criteria=inclusion,
            exclusion_criteria=exclusion,
            example=example,
            shortcut=shortcut,
            order=order,
        )


MODE = {"In person": "in_person", "Video call": "video_call"}


def _build(users: dict) -> Project:
    owner = users["supervisor"]
    project = interview_services.create_project(
        name=DEMO_PROJECT_NAME,
        owner=owner,
        description=(
            "A synthetic demo study: invented, anonymised interviews with people who tried to cross from "
            "Belarus into Latvia, Lithuania and Poland in winter 2021/22, and with NGO staff, volunteers and "
            "lawyers. Coded independently by two coders. No real person is described."
        ),
    )
    for username, _password, role, _label in DEMO_USERS[1:]:
        interview_services.add_member(project=project, user=users[username], role=role)
    for order, (key, label, kind, choices, multiple, description) in enumerate(ATTRIBUTES):
        interview_services.create_attribute_definition(
            project=project,
            key=key,
            label=label,
            kind=kind,
            choices=choices,
            multiple=multiple,
            description=description,
            order=order,
        )
    codes: dict[str, Code] = {}
    _create_codes(project, CODEBOOK, None, "#4e79a7", codes)
    coders = (users["coder1"], users["coder2"])
    for coder in coders:
        if not project.memberships.get(user=coder).has_role(Role.CODER):
            raise ValueError(f"{coder} cannot code in the demo project")
    made = {}  # pseudonym -> list of interviews
    double_coded = []
    assignments, review_marks = [], []  # the supervisor's assignments, as the coders left them
    for p in CROSSERS + OTHERS:
        rng = random.Random(f"{SEED}:{p.pseudonym}")
        p.interview_date = dt.date(2022, 2, 1) + dt.timedelta(days=rng.randint(0, 240))
        p.first_contact = p.interview_date - dt.timedelta(days=rng.randint(5, 60))
        attributes = {
            "nationality": p.nationality,
            "gender": p.gender,
            "age_band": p.age_band,
            "languages": p.languages,
            "interview_mode": p.mode,
            "interview_language": p.interview_language,
            "first_contact_date": p.first_contact,
        }
        if p.participant_type == "border_crosser":
            attributes |= {
                "crossing_attempts": p.attempts,
                "days_at_border": p.days,
                "has_legal_representation": bool(p.legal_rep),
            }
        participant = interview_services.create_participant(
            project=project, pseudonym=p.pseudonym, participant_type=p.participant_type, attributes=attributes
        )
        meta = {
            "interview_date": p.interview_date,
            "mode": MODE[p.mode],
            "interviewer_pseudonym": rng.choice(["INT-A", "INT-B"]),
        }
        scripts = []  # (title, language, script, both coders?)
        if p.original:
            original, english = original_scripts(p.original)
            language = p.original.capitalize()
            scripts.append((f"{p.pseudonym} – interview in {language}", language, original, True))
            scripts.append((f"{p.pseudonym} – interview (English translation)", "English", english, True))
        elif p.participant_type == "border_crosser":
            scripts.append((f"{p.pseudonym} – interview", "English", crosser_script(p, rng), True))
        else:
            both = p.pseudonym in ("NGO-01", "LAW-01")
            scripts.append((f"{p.pseudonym} – interview", "English", other_script(p, rng), both))
        if p.follow_up:
            scripts.append(
                (f"{p.pseudonym} – follow-up interview", "English", follow_up_script(p, rng), True)
            )

        made[p.pseudonym] = []
        for n, (title, language, script, both) in enumerate(scripts):
            tr = script.b.build()
            extra = dict(meta)
            if "follow-up" in title:
                extra |= {"interview_date": p.interview_date + dt.timedelta(days=150), "mode": "video_call"}
            interview = interview_services.create_interview(
                participant=participant,
                title=title,
                text=tr.text,
                turns=tr.turns,
                anonymised_by=owner,
                language=language,
                **extra,
            )
            for coder, second in zip(coders if both else coders[:1], (False, True), strict=False):
                coder_rng = random.Random(f"{SEED}:{p.pseudonym}:{n}:{coder.username}")
                _add_codings(interview, coder, codes, coder_passages(tr, coder_rng, second=second))
            status = InterviewStatus.CODED if both else InterviewStatus.IN_CODING
            if both:
                double_coded.append(interview)
                if len(double_coded) % 5 == 0:
                    status = InterviewStatus.REVIEWED
            interview_services.set_interview_status(interview=interview, status=status)
            made[p.pseudonym].append(interview)
            assigned = coders if both else coders[:1]
            assignments.extend(
                Assignment(
                    project=project,
                    interview=interview,
                    coder=coder,
                    status=AssignmentStatus.DONE if both else AssignmentStatus.IN_PROGRESS,
                    assigned_by=owner,
                    done_at=timezone.now() if both else None,
                )
                for coder in assigned
            )
            if status == InterviewStatus.REVIEWED:
                review_marks.append(
                    ReviewMark(interview=interview, reviewer=owner, reviewed_at=timezone.now())
                )

    Assignment.objects.bulk_create(assignments)
    ReviewMark.objects.bulk_create(review_marks)
    _memos(project, users, codes, made)
    return project


def _add_codings(interview, coder, codes: dict, passages) -> None:
    """Insert one coder's codings of one interview in one query.

    ``coding.services.create_coding`` takes about five queries a coding; for the
    ~1,700 demo codings that alone exceeds the time budget of the command on a
    busy machine. So the same rules are checked here (same project, codable code,
    anonymised interview, 0 <= start < end <= length, coder may code; the
    coder's role is checked once in ``_build``) and the rows are bulk-inserted;
    database constraints still guard the range and duplicates.
    """
    rows = []
    for start, end, key, comment in passages:
        code = codes[key]
        if code.project_id != interview.project_id or not code.is_codable or not interview.is_codable:
            raise ValueError(f"demo coding with {code.name!r} breaks the coding rules")
        if not (
            isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= interview.text_length
        ):
            raise ValueError(f"demo coding {start}-{end} is outside {interview.title!r}")
        rows.append(
            Coding(
                project_id=interview.project_id,
                interview=interview,
                code=code,
                coder=coder,
                start=start,
                end=end,
                comment=comment,
            )
        )
    Coding.objects.bulk_create(rows)


def _memos(project: Project, users: dict, codes: dict, made: dict) -> None:
    create = coding_services.create_memo
    create(
        project=project,
        author=users["supervisor"],
        title="How we code this project",
        text=(
            "Two coders code every border-crosser interview independently; we compare before we discuss.\n"
            "Code the Convention ground and the form of persecution separately: the same Taliban threat can "
            "rest on political opinion or on a particular social group.\n"
            "Crossing attempts are counted per person (attribute), not per coded passage: events are not people."
        ),
    )
    create(
        project=project,
        author=users["coder1"],
        target=made["LV-29"][0],
        title="Seven months",
        text=(
            "The longest stay at the border in the sample. He describes returns by three states; the number of "
            "attempts (34) comes from a friend's notes, not his own memory."
        ),
    )
    create(
        project=project,
        author=users["supervisor"],
        target=codes["violence"],
        title="Violence at earlier borders",
        text=(
            "We disagreed on violence during pushbacks from Greece. Decision: Violence is for the EU–Belarus "
            "border only; earlier violence is described under Prior pushback > by Greece."
        ),
    )
    create(
        project=project,
        author=users["supervisor"],
        target=project.participants.get(pseudonym="LV-07"),
        title="No persecution ground stated",
        text="Says openly that nobody threatened him; a profile close to the 'economic migrant' category.",
    )
    forced = (
        made["LV-06"][0].codings.filter(coder=users["coder2"], code=codes["forced"]).order_by("start").first()
    )
    if forced is not None:
        create(
            project=project,
            author=users["coder2"],
            target=forced,
            text="Coded as forced although he also says the group decided to try again on its own.",
        )
