"""``manage.py load_demo``: the synthetic demo project is complete, consistent and loads once.

The demo is built once for this module (it takes a few seconds) inside a
transaction that is rolled back at the end, so other test modules never see it.
"""

import io
import re
from collections import Counter, defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from coding import selectors
from coding.demo import DEMO_PROJECT_NAME, DEMO_URL, DEMO_USERS
from coding.models import Code, Coding, Memo
from interviews.models import (
    AttributeValue,
    Interview,
    Membership,
    ParticipantType,
    Project,
    Role,
    SpeakerTurn,
)
from interviews.text import normalise_text

ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")


def _load(*args) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    """Load the demo once for the module; roll it back afterwards.

    Passwords are hashed with the suite's fast hasher (see conftest), which is
    the only one the function-scoped tests can verify.
    """
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast, transaction.atomic():
        output = _load()
        yield output
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_output, db):
    return Project.objects.get(name=DEMO_PROJECT_NAME)


def _snapshot(project):
    codings = Coding.objects.filter(project=project)
    return {
        "participants": project.participants.count(),
        "attribute_values": AttributeValue.objects.filter(participant__project=project).count(),
        "interviews": project.interviews.count(),
        "turns": SpeakerTurn.objects.filter(interview__project=project).count(),
        "codes": project.codes.count(),
        "codings": codings.count(),
        "memos": project.memos.count(),
        "members": project.memberships.count(),
        "projects": Project.objects.filter(name=DEMO_PROJECT_NAME).count(),
        "texts": sorted(project.interviews.values_list("title", "text_sha256")),
        "passages": sorted(
            codings.values_list("interview__title", "coder__username", "code__name", "start", "end")
        ),
    }


def test_load_demo_prints_the_url_and_every_login(demo_output):
    assert DEMO_URL in demo_output
    for username, password, _role, _label in DEMO_USERS:
        assert re.search(rf"{username}\s+password: {re.escape(password)}", demo_output)


def test_demo_logins_work_and_pass_the_password_validators(demo, client):
    roles = dict(demo.memberships.values_list("user__username", "role"))
    assert roles == {
        "supervisor": Role.OWNER,
        "coder1": Role.CODER,
        "coder2": Role.CODER,
        "viewer": Role.VIEWER,
    }
    for username, password, _role, _label in DEMO_USERS:
        assert len(password) >= 16
        validate_password(password, get_user_model().objects.get(username=username))
        response = client.post(reverse("login"), {"username": username, "password": password})
        assert response.status_code == 302, username
        assert client.get(reverse("project-list")).status_code == 200
        client.logout()


def test_second_run_changes_nothing(demo):
    before = _snapshot(demo)
    output = _load()
    assert "already exists; nothing changed" in output
    assert DEMO_URL in output and "coder2" in output
    assert _snapshot(Project.objects.get(name=DEMO_PROJECT_NAME)) == before


def test_reset_rebuilds_exactly_the_same_demo(demo):
    """The generator is deterministic: a rebuild gives the same texts, offsets and codings."""
    before = _snapshot(demo)
    output = _load("--reset")
    assert "Created the demo project" in output
    rebuilt = Project.objects.get(name=DEMO_PROJECT_NAME)
    assert rebuilt.pk != demo.pk
    assert _snapshot(rebuilt) == before


def test_refuses_to_load_public_passwords_in_production(demo, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        _load()


def test_about_forty_participants_of_every_type(demo):
    participants = demo.participants.all()
    assert 38 <= participants.count() <= 45
    types = Counter(participants.values_list("participant_type", flat=True))
    assert types[ParticipantType.BORDER_CROSSER] >= 30
    for other in (ParticipantType.NGO_STAFF, ParticipantType.VOLUNTEER, ParticipantType.LAWYER):
        assert types[other] >= 1
    assert (
        demo.participants.filter(pseudonym__regex=r"^LV-\d\d$").count()
        == types[ParticipantType.BORDER_CROSSER]
    )


def test_profiles_are_heterogeneous(demo):
    values = defaultdict(list)
    for key, text, number in AttributeValue.objects.filter(participant__project=demo).values_list(
        "definition__key", "value_text", "value_number"
    ):
        values[key].append(text if text is not None else number)
    assert len(set(values["nationality"])) >= 8
    assert {"Woman", "Man"} <= set(values["gender"])
    assert {"In person", "Video call"} == set(values["interview_mode"])
    crossers = demo.participants.filter(participant_type=ParticipantType.BORDER_CROSSER).count()
    assert len(values["crossing_attempts"]) == len(values["days_at_border"]) == crossers
    assert max(values["days_at_border"]) >= 200  # up to about seven months
    assert min(values["crossing_attempts"]) < 5 < max(values["crossing_attempts"])
    # Several languages for some participants (a multiple-choice attribute).
    per_person = Counter(
        AttributeValue.objects.filter(participant__project=demo, definition__key="languages").values_list(
            "participant", flat=True
        )
    )
    assert max(per_person.values()) >= 3


def test_interviews_are_anonymised_with_their_metadata(demo):
    owner = demo.memberships.get(role=Role.OWNER).user
    interviews = Interview.objects.filter(project=demo)
    assert interviews.filter(anonymised_by=owner).count() == interviews.count()
    for interview in interviews:
        assert interview.interview_date and interview.language and interview.mode
        assert interview.interviewer_pseudonym
        assert interview.is_codable
    words = [len(text.split()) for text in interviews.values_list("text", flat=True)]
    assert min(words) >= 80 and max(words) >= 1200
    # A few participants have a second interview.
    per_participant = Counter(interviews.values_list("participant", flat=True))
    assert 3 <= sum(1 for n in per_participant.values() if n > 1) < 10


def test_turns_lie_inside_the_text_and_do_not_overlap(demo):
    for interview in Interview.objects.filter(project=demo).prefetch_related("turns"):
        assert normalise_text(interview.text) == interview.text
        assert interview.text_length == len(interview.text)
        turns = list(interview.turns.all())
        assert turns, interview.title
        previous_end = 0
        for turn in turns:
            assert previous_end <= turn.start < turn.end <= len(interview.text)
            passage = interview.text[turn.start : turn.end]
            assert passage.startswith(f"{turn.speaker}: ")
            assert "\n" not in passage
            previous_end = turn.end
        roles = {turn.role for turn in turns}
        assert {"interviewer", "participant"} <= roles
    assert SpeakerTurn.objects.filter(interview__project=demo, role="interpreter").exists()


def test_every_coding_quotes_a_nonempty_passage_of_its_interview(demo):
    """The quote the database cuts (code points) is exactly text[start:end] in Python."""
    texts = dict(Interview.objects.filter(project=demo).values_list("id", "text"))
    codings = list(selectors.attach_quotes(Coding.objects.filter(project=demo)))
    assert len(codings) > 1000
    for coding in codings:
        text = texts[coding.interview_id]
        assert 0 <= coding.start < coding.end <= len(text)
        assert coding.quote == text[coding.start : coding.end]
        assert coding.quote.strip()


def test_first_coder_codes_whole_sentences(demo):
    """coder1 codes exactly the sentences that state a fact: an offset slip would cut a word."""
    for coding in selectors.attach_quotes(Coding.objects.filter(project=demo, coder__username="coder1")):
        quote = coding.quote
        assert quote == quote.strip()
        assert quote[-1] in ".!?؟", quote
        assert not quote[0].isalpha() or quote[0].isupper() or not quote[0].isascii(), quote


def test_codings_land_on_the_sentences_that_state_the_facts(demo):
    arabic = Interview.objects.get(project=demo, language="Arabic")
    quotes = defaultdict(set)
    for c in selectors.attach_quotes(arabic.codings.filter(coder__username="coder1").select_related("code")):
        quotes[c.code.name].add(c.quote)
    assert (
        "كان عمري اثنين وعشرين عاماً عندما وصلني طلب الالتحاق بالخدمة العسكرية."
        in quotes["Compulsory military service"]
    )
    assert quotes["Claim not registered"] == {"قلت لهم بالإنجليزية: أريد اللجوء، لكنهم لم يكتبوا شيئاً."}
    emoji_codings = [
        c
        for c in selectors.attach_quotes(
            Coding.objects.filter(project=demo, coder__username="coder1", code__name="Paid intermediary")
        )
        if "🏃" in c.quote
    ]
    assert [c.quote for c in emoji_codings] == [
        'The driver sent a message on the phone: "Go now 🏃\u200d♂️ the soldiers changed shift 🚨", and after '
        "that he blocked my number."
    ]


def test_codings_follow_the_coding_rules(demo):
    bad_code = Coding.objects.filter(project=demo).exclude(code__project=demo, code__is_codable=True)
    assert not bad_code.exists()
    assert not Coding.objects.filter(project=demo).exclude(interview__project=demo).exists()
    coders = set(Coding.objects.filter(project=demo).values_list("coder__username", flat=True))
    assert coders == {"coder1", "coder2"}
    for username in coders:
        membership = Membership.objects.get(project=demo, user__username=username)
        assert membership.has_role(Role.CODER)


def test_both_coders_coded_the_same_interviews_with_high_but_imperfect_agreement(demo):
    by_coder = defaultdict(set)
    for interview, coder, code, start, end in Coding.objects.filter(project=demo).values_list(
        "interview", "coder__username", "code", "start", "end"
    ):
        by_coder[coder].add((interview, code, start, end))
    interviews = {c: {row[0] for row in rows} for c, rows in by_coder.items()}
    both = interviews["coder1"] & interviews["coder2"]
    crosser_interviews = set(
        Interview.objects.filter(
            project=demo, participant__participant_type=ParticipantType.BORDER_CROSSER
        ).values_list("id", flat=True)
    )
    assert len(both & crosser_interviews) >= 30
    assert crosser_interviews <= both
    shared = by_coder["coder1"] & by_coder["coder2"]
    union = by_coder["coder1"] | by_coder["coder2"]
    assert 0.6 < len(shared) / len(union) < 0.9


def test_some_codings_are_nested_inside_others(demo):
    nested = 0
    spans = defaultdict(list)
    for interview, coder, start, end in Coding.objects.filter(project=demo).values_list(
        "interview", "coder", "start", "end"
    ):
        spans[interview, coder].append((start, end))
    for ranges in spans.values():
        for outer in ranges:
            nested += any(outer[0] <= s and e <= outer[1] and (s, e) != outer for s, e in ranges)
    assert nested >= 5


def test_codebook_has_the_domain_groups_as_folders(demo):
    folders = set(Code.objects.filter(project=demo, is_codable=False).values_list("name", flat=True))
    assert {
        "Visa route",
        "Prior pushback",
        "Persecution ground",
        "Reason for the route",
        "Border experience",
        "Outcome",
    } <= folders
    codes = Code.objects.filter(project=demo, is_codable=True)
    assert codes.count() >= 30
    for code in codes:
        assert code.parent is not None and code.definition and code.example
        assert code.inclusion_criteria and code.exclusion_criteria
        assert re.fullmatch(r"#[0-9a-f]{6}", code.colour)
    assert codes.exclude(shortcut="").count() >= 5
    assert Code.objects.get(project=demo, name="Taliban").parent.parent.name == "Persecution ground"


def test_original_language_interviews_have_a_separate_english_translation(demo):
    interviews = Interview.objects.filter(project=demo)
    originals = [i for i in interviews if ARABIC_SCRIPT.search(i.text)]
    assert {i.language for i in originals} >= {"Arabic", "Sorani"}
    kurmanji = interviews.get(language="Kurmanji")
    assert all(letter in kurmanji.text for letter in "şêîûç")
    for original in [*originals, kurmanji]:
        translation = interviews.get(
            participant=original.participant, title__endswith="(English translation)"
        )
        assert translation.pk != original.pk
        assert translation.language == "English"
        assert not ARABIC_SCRIPT.search(translation.text)
        # Both versions are coded by both coders.
        for interview in (original, translation):
            assert set(interview.codings.values_list("coder__username", flat=True)) == {"coder1", "coder2"}


def test_astral_emoji_sit_before_coded_passages(demo):
    """Offsets after an emoji differ between code points and UTF-16: the demo exercises that."""
    with_emoji = [i for i in Interview.objects.filter(project=demo) if any(ord(ch) > 0xFFFF for ch in i.text)]
    assert len(with_emoji) >= 2
    for interview in with_emoji:
        first_emoji = min(n for n, ch in enumerate(interview.text) if ord(ch) > 0xFFFF)
        assert interview.codings.filter(start__gt=first_emoji).exists()
    assert any(
        any(ord(ch) > 0xFFFF for ch in c.quote)
        for c in selectors.attach_quotes(Coding.objects.filter(interview__in=with_emoji))
    )


def test_memos_on_the_project_an_interview_a_code_and_a_coding(demo):
    kinds = set(Memo.objects.filter(project=demo).values_list("kind", flat=True))
    assert {"project", "interview", "code", "coding"} <= kinds


def test_assignments_name_the_coders_who_coded_each_interview(demo):
    coded_by = defaultdict(set)
    for interview_id, coder_id in Coding.objects.filter(project=demo).values_list("interview_id", "coder_id"):
        coded_by[interview_id].add(coder_id)
    assigned = defaultdict(dict)
    for interview_id, coder_id, status in demo.assignments.values_list("interview_id", "coder_id", "status"):
        assigned[interview_id][coder_id] = status
    assert assigned and set(assigned) == set(coded_by)
    for interview in demo.interviews.only("pk", "status"):
        assert set(assigned[interview.pk]) == coded_by[interview.pk]
        statuses = set(assigned[interview.pk].values())
        # Double-coded interviews are done by both coders (coded or reviewed); the others are in progress.
        if interview.status in ("coded", "reviewed"):
            assert statuses == {"done"} and len(assigned[interview.pk]) == 2
        else:
            assert statuses == {"in_progress"}
