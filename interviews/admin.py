"""Django admin for projects, members, participants, attributes, interviews and imports.

The admin is a back office for superusers, not a second way around the rules:

- what a service writes (projects, members, participants, attribute
  definitions, interview metadata and status) is saved by calling that service;
- what would break an invariant if edited by hand is read-only: the transcript
  text with its SHA-256, length and version (change it with a revision, which
  re-anchors codings), anonymisation stamps, speaker turns, attribute values
  (validated against their definition by the participant service), revisions,
  and the records written by imports and redaction.
"""

import copy

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction

from . import audit, services
from .models import (
    AllowedWord,
    AttributeDefinition,
    AttributeValue,
    AuditEvent,
    ImportBatch,
    ImportFile,
    Interview,
    Membership,
    Participant,
    Project,
    RedactionLog,
    RefusedAccess,
    SensitiveTerm,
    SpeakerTurn,
    TranscriptRevision,
)


class ServiceAdmin(admin.ModelAdmin):
    """A model admin whose saves and deletes go through services.

    ``run_service`` does the write and returns the saved object. The form runs
    it once inside a savepoint that is rolled back, so a rule the service
    enforces shows as a form error rather than a server error; ``save_model``
    then runs it for real.
    """

    def run_service(self, request, obj, form, change):
        raise NotImplementedError

    def delete_with_service(self, request, obj):
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceForm(form_class):
            def _post_clean(self):
                # The service speaks first: its messages are the ones researchers know
                # (a database constraint would only say which constraint failed).
                if not self._errors:
                    try:
                        with transaction.atomic():
                            model_admin.run_service(request, copy.copy(self.instance), self, change)
                            transaction.set_rollback(True)
                    except ValidationError as error:
                        if not hasattr(error, "error_dict"):
                            self.add_error(None, error.messages)
                            return
                        for field, field_messages in error.message_dict.items():
                            self.add_error(field if field in self.fields else None, field_messages)
                        return
                super()._post_clean()

        return ServiceForm

    def save_model(self, request, obj, form, change):
        saved = self.run_service(request, obj, form, change)
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
        obj._state.adding = False
        obj._state.db = saved._state.db

    def save_related(self, request, form, formsets, change):
        # Inlines are read-only and the service wrote everything; only the
        # admin's change message still reads these.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        self.delete_with_service(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_with_service(request, obj)

    def get_actions(self, request):
        # Bulk delete would bypass the per-object checks of has_delete_permission.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by a feature (revisions, imports, redaction logs): shown, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def fresh_row(obj):
    """The stored row, so a dry run never changes the object the form holds."""
    return type(obj).objects.get(pk=obj.pk)


# ---------------------------------------------------------------- projects and members


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ["user", "role", "created_at"]
    readonly_fields = fields


@admin.register(Project)
class ProjectAdmin(ServiceAdmin):
    list_display = ["name", "created_at", "updated_at"]
    search_fields = ["name"]
    fields = ["name", "description", "guid", "created_at", "updated_at"]
    readonly_fields = ["guid", "created_at", "updated_at"]
    inlines = [MembershipInline]

    def run_service(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            return services.update_project(
                project=fresh_row(obj), name=data["name"], description=data["description"]
            )
        # A project started in the admin is owned by the admin who started it.
        return services.create_project(name=data["name"], description=data["description"], owner=request.user)

    def delete_with_service(self, request, obj):
        services.delete_project(project=obj)


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "project"]
    search_fields = ["user__username", "project__name"]
    raw_id_fields = ["user", "project"]

    def get_readonly_fields(self, request, obj=None):
        return ["project", "user", "created_at"] if obj else ["created_at"]

    def run_service(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            return services.change_member_role(membership=fresh_row(obj), role=data["role"])
        return services.add_member(project=data["project"], user=data["user"], role=data["role"])

    def has_delete_permission(self, request, obj=None):
        # The last owner stays: a project always has someone who manages it.
        if obj is not None and obj.role == "owner":
            others = Membership.objects.filter(project_id=obj.project_id, role="owner").exclude(pk=obj.pk)
            if not others.exists():
                return False
        return super().has_delete_permission(request, obj)

    def delete_with_service(self, request, obj):
        services.remove_member(membership=obj)


# ---------------------------------------------------------------- attributes and participants


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(ServiceAdmin):
    list_display = ["key", "label", "kind", "multiple", "project", "order"]
    list_filter = ["kind"]
    list_select_related = ["project"]
    search_fields = ["key", "label"]
    raw_id_fields = ["project"]
    editable = ["key", "label", "kind", "choices", "multiple", "description", "order"]

    def get_readonly_fields(self, request, obj=None):
        return ["project", "guid"] if obj else ["guid"]

    def run_service(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changes = {f: data[f] for f in form.changed_data if f in self.editable}
            return services.update_attribute_definition(definition=fresh_row(obj), **changes)
        return services.create_attribute_definition(
            project=data["project"], **{f: data[f] for f in self.editable}
        )

    def delete_with_service(self, request, obj):
        services.delete_attribute_definition(definition=obj)


class AttributeValueInline(ReadOnlyInline):
    model = AttributeValue
    fields = ["definition", "value_text", "value_number", "value_date", "value_bool"]
    readonly_fields = fields


@admin.register(Participant)
class ParticipantAdmin(ServiceAdmin):
    list_display = ["pseudonym", "participant_type", "project", "created_at"]
    list_filter = ["participant_type"]
    list_select_related = ["project"]
    search_fields = ["pseudonym"]
    raw_id_fields = ["project"]
    inlines = [AttributeValueInline]

    def get_readonly_fields(self, request, obj=None):
        return ["project", "guid", "created_at", "updated_at"] if obj else ["guid"]

    def run_service(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            return services.update_participant(
                participant=fresh_row(obj),
                pseudonym=data["pseudonym"],
                participant_type=data["participant_type"],
            )
        return services.create_participant(
            project=data["project"], pseudonym=data["pseudonym"], participant_type=data["participant_type"]
        )

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.interviews.exists():
            return False
        return super().has_delete_permission(request, obj)

    def delete_with_service(self, request, obj):
        services.delete_participant(participant=obj)


@admin.register(AttributeValue)
class AttributeValueAdmin(ReadOnlyAdmin):
    """Values are checked against their definition by the participant service; edit them there."""

    list_display = ["participant", "definition", "value_text", "value_number", "value_date", "value_bool"]
    list_select_related = ["participant", "definition"]
    search_fields = ["participant__pseudonym", "definition__key"]


# ---------------------------------------------------------------- interviews


class SpeakerTurnInline(ReadOnlyInline):
    model = SpeakerTurn
    fields = ["index", "start", "end", "speaker", "role", "time_start", "time_end"]
    readonly_fields = fields


class TranscriptRevisionInline(ReadOnlyInline):
    model = TranscriptRevision
    fields = [
        "version",
        "text_sha256",
        "reason",
        "codings_shifted",
        "codings_flagged",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields


_TRANSCRIPT_READ_ONLY = [
    "project",
    "guid",
    "text",
    "text_sha256",
    "text_length",
    "text_version",
    "anonymised_at",
    "anonymised_by",
    "created_at",
    "updated_at",
]
_INTERVIEW_METADATA = ["title", "interview_date", "language", "mode", "interviewer_pseudonym"]


@admin.register(Interview)
class InterviewAdmin(ServiceAdmin):
    list_display = [
        "title",
        "participant",
        "project",
        "status",
        "text_length",
        "text_version",
        "interview_date",
    ]
    list_filter = ["status", "mode", "language"]
    list_select_related = ["participant", "project"]
    search_fields = ["title", "participant__pseudonym"]
    raw_id_fields = ["participant"]
    inlines = [SpeakerTurnInline, TranscriptRevisionInline]
    actions = ["mark_anonymised"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # The list never needs the transcript itself.
        return queryset.defer("text") if request.resolver_match.url_name.endswith("changelist") else queryset

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["participant", "text", *_INTERVIEW_METADATA]
        return ["participant", "status", *_INTERVIEW_METADATA, *_TRANSCRIPT_READ_ONLY]

    def get_readonly_fields(self, request, obj=None):
        return _TRANSCRIPT_READ_ONLY if obj else []

    def run_service(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            metadata = {f: data[f] for f in _INTERVIEW_METADATA if f != "title" and data.get(f) is not None}
            return services.create_interview(
                participant=data["participant"], title=data["title"], text=data["text"], **metadata
            )
        interview = fresh_row(obj)
        metadata = {f: data[f] for f in form.changed_data if f in _INTERVIEW_METADATA}
        participant = data["participant"] if "participant" in form.changed_data else None
        interview = services.update_interview(interview=interview, participant=participant, **metadata)
        if "status" in form.changed_data:
            interview = services.set_interview_status(interview=interview, status=data["status"])
        return interview

    def delete_with_service(self, request, obj):
        services.delete_interview(interview=obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method != "GET" or response.status_code != 200:
            return response
        interview = Interview.objects.filter(pk=object_id).only("pk", "project_id").first()
        if interview is not None:
            # The change page shows the transcript: a read like any other.
            audit.record_read(
                project=interview.project_id,
                action="transcript.read",
                target_type="interview",
                target_id=interview.pk,
                interview_id=interview.pk,
                detail={"view": "admin"},
            )
        return response

    @admin.action(description="Mark the transcripts as anonymised (coding can start)")
    def mark_anonymised(self, request, queryset):
        for interview in queryset:
            services.mark_interview_anonymised(interview=interview, by=request.user)
        messages.success(request, f"{queryset.count()} transcript(s) marked as anonymised.")


@admin.register(SpeakerTurn)
class SpeakerTurnAdmin(ReadOnlyAdmin):
    list_display = ["interview", "index", "start", "end", "speaker", "role"]
    list_select_related = ["interview"]
    list_filter = ["role"]


@admin.register(TranscriptRevision)
class TranscriptRevisionAdmin(ReadOnlyAdmin):
    list_display = [
        "interview",
        "version",
        "reason",
        "codings_shifted",
        "codings_flagged",
        "created_by",
        "created_at",
    ]
    list_select_related = ["interview", "created_by"]


# ---------------------------------------------------------------- import and anonymisation records


@admin.register(SensitiveTerm)
class SensitiveTermAdmin(ReadOnlyAdmin):
    list_display = ["placeholder", "category", "word_count", "project", "created_at"]
    list_select_related = ["project"]
    list_filter = ["category"]


@admin.register(AllowedWord)
class AllowedWordAdmin(ReadOnlyAdmin):
    list_display = ["word", "project", "created_at"]
    list_select_related = ["project"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["pk", "project", "status", "file_count", "processed_count", "created_at", "finished_at"]
    list_select_related = ["project"]
    list_filter = ["status"]


@admin.register(ImportFile)
class ImportFileAdmin(ReadOnlyAdmin):
    list_display = ["pk", "batch", "extension", "size", "status", "interview", "created_at"]
    list_select_related = ["batch", "interview"]
    list_filter = ["status"]


@admin.register(RedactionLog)
class RedactionLogAdmin(ReadOnlyAdmin):
    list_display = ["interview", "category", "placeholder", "start", "end", "text_version", "created_at"]
    list_select_related = ["interview"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail: never added to, changed or deleted by hand."""

    list_display = ["at", "project", "actor_name", "source", "kind", "action", "target_type", "target_id"]
    list_filter = ["kind", "source", "target_type"]
    list_select_related = ["project"]
    search_fields = ["action", "actor_name"]
    date_hierarchy = "at"


@admin.register(RefusedAccess)
class RefusedAccessAdmin(ReadOnlyAdmin):
    """Refused requests for project data (DP3): never added to, changed or deleted by hand
    (``manage.py purge_refused_access`` removes expired ones)."""

    list_display = ["at", "status", "method", "path", "username", "ip", "project_id", "source"]
    list_filter = ["status", "source", "method"]
    search_fields = ["path", "username", "ip"]
    date_hierarchy = "at"
