"""Projects, membership, participants with typed attributes, interviews and their turns.

Transcript text is stored NFC-normalised with ``\\n`` line endings; every offset
in the app (turns here, codings in ``coding``) is a Unicode code point index
into that stored text, end exclusive.
"""

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    SUPERVISOR = "supervisor", "Supervisor"
    CODER = "coder", "Coder"
    VIEWER = "viewer", "Viewer"


# What each role may do, lowest first. A role may do everything the roles
# below it may do.
ROLE_RANK = {Role.VIEWER: 0, Role.CODER: 1, Role.SUPERVISOR: 2, Role.OWNER: 3}


class Project(models.Model):
    """A study: its members, participants, interviews and codebook."""

    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    blind_coding = models.BooleanField(
        default=False,
        help_text="Coders see only their own codings on an interview until a supervisor reveals it.",
    )
    require_two_factor = models.BooleanField(
        default=False,
        help_text="Every member must sign in with a second factor (and API tokens follow the same rule).",
    )
    min_cell_size = models.PositiveSmallIntegerField(
        default=0,
        help_text="Viewers see aggregate counts below this number as suppressed (0 shows every count).",
    )
    # The consensus layer: codings settled by a supervisor are stored as the codings of
    # this account, which cannot sign in, so every coder-aware query (analytics,
    # agreement, exports) can select it like a coder.
    consensus_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="consensus_of",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="projects")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.project}"

    def has_role(self, minimum: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(minimum)]


class AttributeKind(models.TextChoices):
    CATEGORICAL = "categorical", "Categorical"
    INTEGER = "integer", "Whole number"
    DECIMAL = "decimal", "Decimal number"
    DATE = "date", "Date"
    BOOLEAN = "boolean", "Yes / no"
    TEXT = "text", "Text"


class AttributeDefinition(models.Model):
    """A typed participant attribute defined per project (nationality, crossing attempts…)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="attribute_definitions")
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.SlugField(
        max_length=60,
        help_text="Short identifier used in queries and exports, e.g. crossing_attempts.",
    )
    label = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=AttributeKind.choices)
    choices = models.JSONField(
        default=list, blank=True, help_text="Allowed values of a categorical attribute."
    )
    multiple = models.BooleanField(
        default=False, help_text="A categorical attribute may take several values."
    )
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["project_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="attribute_key_unique"),
            models.CheckConstraint(condition=Q(kind__in=AttributeKind.values), name="attribute_kind_valid"),
            models.CheckConstraint(
                condition=Q(multiple=False) | Q(kind=AttributeKind.CATEGORICAL),
                name="attribute_multiple_only_categorical",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class ParticipantType(models.TextChoices):
    BORDER_CROSSER = "border_crosser", "Border crosser"
    NGO_STAFF = "ngo_staff", "NGO staff"
    VOLUNTEER = "volunteer", "Volunteer"
    LAWYER = "lawyer", "Lawyer"
    OFFICIAL = "official", "Official"
    OTHER = "other", "Other"


class Participant(models.Model):
    """A pseudonymous interviewee. The key to the real person never enters the app."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="participants")
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pseudonym = models.CharField(max_length=40)
    participant_type = models.CharField(
        max_length=30, choices=ParticipantType.choices, default=ParticipantType.BORDER_CROSSER
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "pseudonym"]
        constraints = [
            models.UniqueConstraint(fields=["project", "pseudonym"], name="participant_pseudonym_unique"),
            models.CheckConstraint(
                condition=Q(participant_type__in=ParticipantType.values),
                name="participant_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class AttributeValue(models.Model):
    """One value of one attribute for one participant.

    Values live in typed columns so the database can group, compare and
    crosstab them. A multiple-choice categorical attribute has one row per
    chosen value; every other attribute has at most one row (kept so by the
    service that writes them).
    """

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="attribute_values")
    definition = models.ForeignKey(AttributeDefinition, on_delete=models.CASCADE, related_name="values")
    value_text = models.TextField(null=True, blank=True)
    value_number = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)
    value_bool = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["participant_id", "definition_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "definition", "value_text"],
                name="attribute_value_unique_text",
            ),
        ]
        indexes = [models.Index(fields=["definition", "value_text"])]

    def __str__(self) -> str:
        value = self.value_text or self.value_number or self.value_date or self.value_bool
        return f"{self.definition_id}={value}"


class InterviewMode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIDEO_CALL = "video_call", "Video call"
    PHONE = "phone", "Phone"
    WRITTEN = "written", "Written"
    OTHER = "other", "Other"


class InterviewStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ANONYMISED = "anonymised", "Anonymised"
    IN_CODING = "in_coding", "In coding"
    CODED = "coded", "Coded"
    REVIEWED = "reviewed", "Reviewed"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Interview(models.Model):
    """An interview with its transcript.

    ``text`` changes only through ``services.revise_transcript``, which bumps
    ``text_version``, re-anchors codings and records a revision; see
    ARCHITECTURE.md for the rule.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="interviews")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="interviews")
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    interview_date = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=40, blank=True)
    mode = models.CharField(max_length=20, choices=InterviewMode.choices, blank=True)
    interviewer_pseudonym = models.CharField(max_length=40, blank=True)
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64, editable=False)
    text_length = models.PositiveIntegerField(editable=False, default=0)
    text_version = models.PositiveIntegerField(default=1, editable=False)
    status = models.CharField(max_length=20, choices=InterviewStatus.choices, default=InterviewStatus.DRAFT)
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    anonymised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "interview_date", "title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=InterviewStatus.values), name="interview_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(mode__in=[*InterviewMode.values, ""]), name="interview_mode_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"]),
            models.Index(fields=["project", "text_sha256"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_codable(self) -> bool:
        """Coding starts only once the transcript is marked anonymised."""
        return self.anonymised_at is not None


class SpeakerRole(models.TextChoices):
    INTERVIEWER = "interviewer", "Interviewer"
    PARTICIPANT = "participant", "Participant"
    INTERPRETER = "interpreter", "Interpreter"
    OTHER = "other", "Other"


class SpeakerTurn(models.Model):
    """A range of the transcript spoken by one speaker."""

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="turns")
    index = models.PositiveIntegerField()
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    speaker = models.CharField(max_length=80)
    role = models.CharField(max_length=20, choices=SpeakerRole.choices)
    time_start = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    time_end = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)

    class Meta:
        ordering = ["interview_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["interview", "index"], name="turn_index_unique"),
            models.CheckConstraint(
                condition=Q(start__gte=0) & Q(start__lt=F("end")), name="turn_range_valid"
            ),
            models.CheckConstraint(condition=Q(role__in=SpeakerRole.values), name="turn_role_valid"),
        ]
        indexes = [models.Index(fields=["interview", "start"])]

    def __str__(self) -> str:
        return f"{self.speaker or self.role} [{self.start}:{self.end}]"


class TranscriptRevision(models.Model):
    """A record that the transcript changed: who, when, what happened to codings.

    It never holds the earlier text: a revision is usually a redaction, and the
    text before it must not be kept.
    """

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    text_sha256 = models.CharField(max_length=64)
    reason = models.CharField(max_length=200, blank=True)
    chars_inserted = models.PositiveIntegerField(default=0)
    chars_deleted = models.PositiveIntegerField(default=0)
    codings_shifted = models.PositiveIntegerField(default=0)
    codings_flagged = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["interview_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["interview", "version"], name="revision_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.interview_id} v{self.version}"


# ---------------------------------------------------------------- import and anonymisation


class SensitiveTerm(models.Model):
    """A name, village, camp or organisation the team wants replaced by ``placeholder`` on import.

    Only keyed digests of the term are kept (see ``interviews.anonymise``): the
    app recognises the term in new transcripts but cannot show it, because this
    list is itself a key to the pseudonyms.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sensitive_terms")
    digest = models.CharField(max_length=32, editable=False)
    first_digest = models.CharField(max_length=32, editable=False)
    word_count = models.PositiveSmallIntegerField(editable=False)
    category = models.CharField(max_length=30)
    placeholder = models.CharField(max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "category", "placeholder", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "digest"], name="sensitive_term_unique"),
            models.CheckConstraint(condition=Q(word_count__gte=1), name="sensitive_term_has_words"),
        ]

    def __str__(self) -> str:
        return self.placeholder


class AllowedWord(models.Model):
    """A capitalised word the project never wants flagged as a possible name (e.g. a public place)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="allowed_words")
    word = models.CharField(max_length=80)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "word"]
        constraints = [
            models.UniqueConstraint(fields=["project", "word"], name="allowed_word_unique"),
            models.CheckConstraint(condition=~Q(word=""), name="allowed_word_not_empty"),
        ]

    def __str__(self) -> str:
        return self.word


class ImportBatchStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Reading files"
    DONE = "done", "Done"


class ImportBatch(models.Model):
    """One upload of one or more files; a Celery task reads its files (ids only in the task)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_batches")
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=ImportBatchStatus.choices, default=ImportBatchStatus.QUEUED
    )
    file_count = models.PositiveIntegerField(default=0)
    processed_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportBatchStatus.values), name="import_batch_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"import {self.pk}"


class ImportFileStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PARSING = "parsing", "Reading"
    READY = "ready", "Waiting for redaction review"
    FAILED = "failed", "Not imported"
    IMPORTED = "imported", "Imported"
    DISCARDED = "discarded", "Discarded"
    EXPIRED = "expired", "Expired (not confirmed in time)"


class ImportFile(models.Model):
    """A staged file: metadata only. Its extracted text lives in a private staging file
    (see ``interviews.import_services``) that is deleted when the import ends."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="files")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_files")
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The upload's file name, shown while the import is open and blanked when it
    # ends (file names often carry the interviewee's real name).
    name = models.CharField(max_length=255, blank=True)
    extension = models.CharField(max_length=10, blank=True)
    size = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=ImportFileStatus.choices, default=ImportFileStatus.QUEUED
    )
    reason = models.CharField(max_length=300, blank=True)
    participant_hint = models.CharField(max_length=40, blank=True)
    source_digest = models.CharField(max_length=64, blank=True, db_index=True)
    duplicate_of = models.ForeignKey(
        Interview, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    interview = models.ForeignKey(
        Interview, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_files"
    )
    turn_count = models.PositiveIntegerField(default=0)
    finding_count = models.PositiveIntegerField(default=0)
    flagged_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportFileStatus.values), name="import_file_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return f"import file {self.pk}"


class RedactionLog(models.Model):
    """One redaction of an interview: what kind, where the placeholder now stands, who, when.

    Never the original text: the mapping original → placeholder is offered once
    as a download and not kept.
    """

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="redactions")
    category = models.CharField(max_length=30)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    placeholder = models.CharField(max_length=40)
    text_version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["interview_id", "text_version", "start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__gte=0) & Q(start__lt=F("end")), name="redaction_range_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.placeholder} [{self.start}:{self.end}]"


class AuditKind(models.TextChoices):
    CHANGE = "change", "Change"
    READ = "read", "Read"


class AuditEvent(models.Model):
    """One recorded change or read: who, when, what, before and after. Never edited.

    Rows are written by ``interviews.audit.record`` in the same transaction as the
    change. ``before``/``after`` hold field values (ids, offsets, names, memo text),
    never transcript text. ``interview_id`` is a plain number, not a foreign key, so
    the history of a deleted interview stays answerable.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="audit_events")
    interview_id = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=10, choices=AuditKind.choices)
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=40)
    target_id = models.BigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=20, blank=True, help_text="page, api, admin, task or command")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["project", "at"]),
            models.Index(fields=["project", "interview_id", "at"]),
            models.Index(fields=["project", "target_type", "target_id"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AuditKind.values), name="audit_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_name or 'system'} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are never edited.")
        super().save(*args, **kwargs)


class RefusedAccess(models.Model):
    """A refused request for project data (401, 403 or 404 under /projects/ or /api/projects/).

    Written by ``interviews.audit.AuditContextMiddleware`` after the answer, in its own
    transaction, so it stays although the request's own work was rolled back. Append-only
    like ``AuditEvent`` (migration 0005 guards it in the database). ``project_id`` is a
    plain number: the probed project may not exist, or may be deleted later. ``path``
    holds no query string (typed filters and search text stay out).
    """

    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    source = models.CharField(max_length=10, help_text="page or api")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "refused accesses"
        indexes = [
            models.Index(fields=["project_id", "at"]),
            models.Index(fields=["user", "at"]),
            models.Index(fields=["ip", "at"]),
            models.Index(fields=["at"]),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.method} {self.path} for {self.username or 'anonymous'}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Refused attempts are never edited.")
        super().save(*args, **kwargs)
