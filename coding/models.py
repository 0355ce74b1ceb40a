"""The codebook, codings (coded passages) and memos."""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from interviews.models import Interview, Participant, Project

colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Give the colour as #rrggbb, for example #1f77b4.")


class Code(models.Model):
    """A node of the project's codebook tree.

    A code with ``is_codable=False`` is a folder (e.g. "Visa route") that groups
    codes and is never applied to a passage itself.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="codes")
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=120)
    colour = models.CharField(max_length=7, default="#4e79a7", validators=[colour_validator])
    definition = models.TextField(blank=True)
    inclusion_criteria = models.TextField(blank=True)
    exclusion_criteria = models.TextField(blank=True)
    example = models.TextField(blank=True)
    is_codable = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)
    shortcut = models.CharField(
        max_length=1, blank=True, help_text="A key that applies this code in the coding view."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "order", "name", "id"]
        constraints = [
            # Names are unique among siblings, ignoring case; roots are siblings
            # within their project.
            models.UniqueConstraint(
                Lower("name"),
                "parent",
                condition=Q(parent__isnull=False),
                name="code_name_unique_among_siblings",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "project",
                condition=Q(parent__isnull=True),
                name="code_name_unique_among_roots",
            ),
            models.UniqueConstraint(
                fields=["project", "shortcut"],
                condition=~Q(shortcut=""),
                name="code_shortcut_unique",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="code_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Coding(models.Model):
    """One coded passage: ``interview.text[start:end]`` carries ``code``, applied by ``coder``.

    ``start``/``end`` are Unicode code point offsets into the stored NFC text,
    end exclusive. ``project`` repeats the interview's project so scoping and
    analytics need no join.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="codings")
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="codings")
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="codings")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="codings")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    comment = models.TextField(blank=True)
    needs_review = models.BooleanField(
        default=False,
        help_text="Set when a transcript revision changed the text inside this passage.",
    )
    request_key = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="The Idempotency-Key of the request that created it, so a retried request creates nothing.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["interview_id", "start", "end", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__gte=0) & Q(start__lt=F("end")), name="coding_range_valid"
            ),
            models.UniqueConstraint(
                fields=["interview", "code", "coder", "start", "end"],
                name="coding_unique_passage",
            ),
            models.UniqueConstraint(
                fields=["coder", "request_key"],
                condition=~Q(request_key=""),
                name="coding_unique_request_key",
            ),
        ]
        indexes = [
            models.Index(fields=["interview", "start"]),
            models.Index(fields=["code", "interview"]),
            models.Index(fields=["coder", "interview"]),
            models.Index(fields=["project", "code"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} [{self.start}:{self.end}] in {self.interview_id}"


class MemoKind(models.TextChoices):
    PROJECT = "project", "Project"
    PARTICIPANT = "participant", "Participant"
    INTERVIEW = "interview", "Interview"
    CODE = "code", "Code"
    CODING = "coding", "Coding"


class Memo(models.Model):
    """A researcher's note on the project or on one participant, interview, code or coding."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memos")
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=MemoKind.choices)
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="memos"
    )
    interview = models.ForeignKey(
        Interview, null=True, blank=True, on_delete=models.CASCADE, related_name="memos"
    )
    code = models.ForeignKey(Code, null=True, blank=True, on_delete=models.CASCADE, related_name="memos")
    coding = models.ForeignKey(Coding, null=True, blank=True, on_delete=models.CASCADE, related_name="memos")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memos")
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "-updated_at", "id"]
        constraints = [
            # Exactly the target the kind names is set, and no other.
            models.CheckConstraint(
                condition=(
                    Q(
                        kind=MemoKind.PROJECT,
                        participant__isnull=True,
                        interview__isnull=True,
                        code__isnull=True,
                        coding__isnull=True,
                    )
                    | Q(
                        kind=MemoKind.PARTICIPANT,
                        participant__isnull=False,
                        interview__isnull=True,
                        code__isnull=True,
                        coding__isnull=True,
                    )
                    | Q(
                        kind=MemoKind.INTERVIEW,
                        participant__isnull=True,
                        interview__isnull=False,
                        code__isnull=True,
                        coding__isnull=True,
                    )
                    | Q(
                        kind=MemoKind.CODE,
                        participant__isnull=True,
                        interview__isnull=True,
                        code__isnull=False,
                        coding__isnull=True,
                    )
                    | Q(
                        kind=MemoKind.CODING,
                        participant__isnull=True,
                        interview__isnull=True,
                        code__isnull=True,
                        coding__isnull=False,
                    )
                ),
                name="memo_target_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} memo {self.pk}"


class SavedQuery(models.Model):
    """A named profile-query expression (see ``coding.query``), e.g. "Came on a Belarusian visa".

    Only the expression text is stored; it is parsed and checked against the
    codebook and attributes every time it runs, so a renamed code makes it fail
    with a clear message rather than silently match nobody.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="saved_queries")
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    expression = models.TextField(max_length=2000)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="saved_queries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "name", "id"]
        verbose_name_plural = "saved queries"
        constraints = [
            models.UniqueConstraint(Lower("name"), "project", name="saved_query_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="saved_query_name_not_empty"),
            models.CheckConstraint(condition=~Q(expression=""), name="saved_query_expression_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class ExportKind(models.TextChoices):
    QDPX = "qdpx", "REFI-QDA project (QDPX)"
    QDC = "qdc", "REFI-QDA codebook (QDC)"
    CODINGS_CSV = "codings.csv", "Codings (CSV)"
    CODINGS_XLSX = "codings.xlsx", "Codings (XLSX)"
    PROFILES_CSV = "profiles.csv", "Participant × code profiles (CSV)"
    PROFILES_XLSX = "profiles.xlsx", "Participant × code profiles (XLSX)"
    CODEBOOK_CSV = "codebook.csv", "Codebook (CSV)"
    CODEBOOK_XLSX = "codebook.xlsx", "Codebook (XLSX)"


class ExportJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (file deleted)"


class ExportJob(models.Model):
    """One export built by a Celery task (``coding.exports``); the task gets the id only.

    The finished file is kept in the private folder ``settings.EXPORT_DIR`` as
    ``<file_key>.export`` (a server-generated uuid, never a user-supplied name)
    and served only through the authorised download endpoint; the sweep deletes
    it after ``EXPORT_KEEP_HOURS`` and marks the job expired.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="export_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    status = models.CharField(max_length=20, choices=ExportJobStatus.choices, default=ExportJobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    file_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    filename = models.CharField(max_length=120, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    not_carried = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExportJobStatus.values), name="export_job_status_valid"
            ),
            models.CheckConstraint(condition=Q(kind__in=ExportKind.values), name="export_job_kind_valid"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="export_job_progress_max_100"),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.kind})"


class AssignmentStatus(models.TextChoices):
    TODO = "todo", "To do"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class Assignment(models.Model):
    """A supervisor asks ``coder`` to code ``interview``; the coder reports progress."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="assignments")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.TODO)
    blind = models.BooleanField(
        default=False,
        help_text="This coder does not see other coders' codings on the interview until it is revealed.",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["interview_id", "coder_id"]
        constraints = [
            models.UniqueConstraint(fields=["interview", "coder"], name="assignment_unique_coder"),
            models.CheckConstraint(
                condition=Q(status__in=AssignmentStatus.values), name="assignment_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["project", "coder", "status"])]

    def __str__(self) -> str:
        return f"{self.coder} on {self.interview} ({self.status})"


class Reveal(models.Model):
    """A supervisor has revealed the codings of a blind-coded interview to its coders."""

    interview = models.OneToOneField(Interview, on_delete=models.CASCADE, related_name="reveal")
    revealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revealed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.interview} revealed"


class ReviewMark(models.Model):
    """When a supervisor last reviewed an interview: "what changed since my last review" starts here."""

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="review_marks")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reviewed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["interview", "reviewer"], name="review_mark_unique")]

    def __str__(self) -> str:
        return f"{self.interview} reviewed by {self.reviewer} at {self.reviewed_at}"


class CodingComment(models.Model):
    """A comment on a coding; replies point at the thread's first comment, which carries ``resolved``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="coding_comments")
    coding = models.ForeignKey(Coding, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=5000)
    resolved = models.BooleanField(default=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["coding_id", "created_at", "id"]
        indexes = [models.Index(fields=["coding", "parent"])]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="coding_comment_not_empty")]

    def __str__(self) -> str:
        return f"Comment {self.pk} on coding {self.coding_id}"
