"""Django admin for the codebook, codings, memos, saved queries and export jobs.

Saves go through ``coding.services`` (see ``interviews.admin.ServiceAdmin``).
A coding's offsets, interview and coder are read-only: a passage is re-drawn in
the coding view, and offsets follow the text when a transcript is revised.
Codings and memos are created where their target is chosen (coding view, API),
not here.
"""

from django.contrib import admin

from interviews import audit
from interviews.admin import ReadOnlyAdmin, ServiceAdmin, fresh_row

from . import services
from .models import Assignment, Code, Coding, CodingComment, ExportJob, Memo, Reveal, ReviewMark, SavedQuery

_CODE_EDITABLE = [
    "name",
    "colour",
    "definition",
    "inclusion_criteria",
    "exclusion_criteria",
    "example",
    "is_codable",
    "order",
    "shortcut",
]


@admin.register(Code)
class CodeAdmin(ServiceAdmin):
    list_display = ["name", "parent", "project", "is_codable", "order", "shortcut"]
    list_filter = ["is_codable"]
    list_select_related = ["parent", "project"]
    search_fields = ["name", "definition"]
    raw_id_fields = ["project", "parent"]

    def get_fields(self, request, obj=None):
        return ["project", "parent", *_CODE_EDITABLE, "guid", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return (
            ["project", "guid", "created_at", "updated_at"] if obj else ["guid", "created_at", "updated_at"]
        )

    def run_service(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            return services.create_code(
                project=data["project"], parent=data["parent"], **{f: data[f] for f in _CODE_EDITABLE}
            )
        code = fresh_row(obj)
        if "parent" in form.changed_data:
            code = services.move_code(code=code, parent=data["parent"])
        changes = {f: data[f] for f in form.changed_data if f in _CODE_EDITABLE}
        return services.update_code(code=code, **changes) if changes else code

    def has_delete_permission(self, request, obj=None):
        # A code with sub-codes or codings is merged or emptied first (see the API's merge).
        if obj is not None and (obj.children.exists() or obj.codings.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def delete_with_service(self, request, obj):
        services.delete_code(code=obj)


@admin.register(Coding)
class CodingAdmin(ServiceAdmin):
    list_display = ["pk", "code", "interview", "coder", "start", "end", "needs_review", "updated_at"]
    list_filter = ["needs_review"]
    list_select_related = ["code", "interview", "coder"]
    search_fields = ["code__name", "interview__title", "coder__username"]
    raw_id_fields = ["code"]
    fields = [
        "code",
        "comment",
        "needs_review",
        "project",
        "interview",
        "coder",
        "start",
        "end",
        "quote",
        "guid",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "project",
        "interview",
        "coder",
        "start",
        "end",
        "quote",
        "guid",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("interview__text")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method != "GET" or response.status_code != 200:
            return response
        coding = Coding.objects.filter(pk=object_id).only("pk", "project_id", "interview_id").first()
        if coding is not None:
            # The change page shows the quote: a read like any other (DP3).
            audit.record_read(
                project=coding.project_id,
                action="passages.listed",
                target_type="coding",
                target_id=coding.pk,
                interview_id=coding.interview_id,
                detail={"view": "admin"},
            )
        return response

    @admin.display(description="Quote (text[start:end])")
    def quote(self, coding):
        return fresh_row(coding.interview).text[coding.start : coding.end]

    def has_add_permission(self, request):
        return False

    def run_service(self, request, obj, form, change):
        data = form.cleaned_data
        return services.update_coding(
            coding=fresh_row(obj),
            code=data["code"] if "code" in form.changed_data else None,
            comment=data["comment"],
            needs_review=data["needs_review"],
        )

    def delete_with_service(self, request, obj):
        services.delete_coding(coding=obj)


@admin.register(Memo)
class MemoAdmin(ServiceAdmin):
    list_display = ["__str__", "kind", "project", "author", "updated_at"]
    list_filter = ["kind"]
    list_select_related = ["project", "author"]
    search_fields = ["title", "author__username"]
    fields = ["title", "text", "kind", "project", "participant", "interview", "code", "coding", "author"]
    readonly_fields = ["kind", "project", "participant", "interview", "code", "coding", "author"]

    def has_add_permission(self, request):
        return False

    def run_service(self, request, obj, form, change):
        data = form.cleaned_data
        return services.update_memo(memo=fresh_row(obj), text=data["text"], title=data["title"])

    def delete_with_service(self, request, obj):
        services.delete_memo(memo=obj)


@admin.register(SavedQuery)
class SavedQueryAdmin(ServiceAdmin):
    list_display = ["name", "project", "created_by", "updated_at"]
    list_select_related = ["project", "created_by"]
    search_fields = ["name"]
    raw_id_fields = ["project"]

    def get_fields(self, request, obj=None):
        return ["project", "name", "expression", "description", "created_by", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        always = ["created_by", "created_at", "updated_at"]
        return ["project", *always] if obj else always

    def run_service(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            return services.update_saved_query(
                query=fresh_row(obj),
                name=data["name"],
                expression=data["expression"],
                description=data["description"],
            )
        return services.create_saved_query(
            project=data["project"],
            created_by=request.user,
            name=data["name"],
            expression=data["expression"],
            description=data["description"],
        )

    def delete_with_service(self, request, obj):
        services.delete_saved_query(query=obj)


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    """Export jobs are started and downloaded on the project's "Export and import" page."""

    list_display = [
        "pk",
        "project",
        "kind",
        "status",
        "progress",
        "requested_by",
        "created_at",
        "finished_at",
    ]
    list_select_related = ["project", "requested_by"]
    list_filter = ["status", "kind"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    """Assignments are made and moved on the project's Assignments page (audited there)."""

    list_display = ["interview", "coder", "status", "blind", "assigned_by", "updated_at"]
    list_select_related = ["interview", "coder", "assigned_by"]
    list_filter = ["status", "blind"]


@admin.register(Reveal)
class RevealAdmin(ReadOnlyAdmin):
    list_display = ["interview", "revealed_by", "revealed_at"]
    list_select_related = ["interview", "revealed_by"]


@admin.register(ReviewMark)
class ReviewMarkAdmin(ReadOnlyAdmin):
    list_display = ["interview", "reviewer", "reviewed_at"]
    list_select_related = ["interview", "reviewer"]


@admin.register(CodingComment)
class CodingCommentAdmin(ReadOnlyAdmin):
    """Comments are written, answered and resolved beside the coding they discuss."""

    list_display = ["pk", "coding", "author", "resolved", "created_at"]
    list_select_related = ["coding", "author"]
    list_filter = ["resolved"]
