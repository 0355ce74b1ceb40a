"""REST endpoints for the codebook, codings and memos."""

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from interviews import audit
from interviews.access import require_own_or_supervise
from interviews.api_base import WRITE_METHODS, ProjectScopedViewSet
from interviews.models import Role

from . import analytics, drilldown, selectors, services
from .models import Code, Coding, Memo, MemoKind
from .serializers import (
    CodeInput,
    CodeMergeInput,
    CodeMoveInput,
    CodeOutput,
    CodeUpdateInput,
    CodingInput,
    CodingOutput,
    CodingUpdateInput,
    MemoInput,
    MemoOutput,
    MemoUpdateInput,
)


class CodeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """The codebook: a tree of codes. Supervisors and owners edit it."""

    serializer_class = CodeOutput
    http_method_names = WRITE_METHODS
    filterset_fields = ["parent", "is_codable"]
    ordering_fields = ["order", "name", "created_at"]
    ordering = ["order", "name", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Code.objects.none()
        return selectors.codebook_with_counts(self.project, self.membership)

    def _fresh(self, code):
        return self.get_queryset().get(pk=code.pk)

    @extend_schema(request=CodeInput, responses={201: CodeOutput})
    def create(self, request, project_pk=None):
        data = self.validated(CodeInput)
        code = services.create_code(project=self.project, **data)
        return self.respond(self._fresh(code), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=CodeUpdateInput, responses=CodeOutput)
    def partial_update(self, request, project_pk=None, pk=None):
        instance = self.get_object()
        data = self.validated(CodeUpdateInput, partial=True)
        code = services.update_code(code=instance, **data)
        return self.respond(self._fresh(code))

    def destroy(self, request, project_pk=None, pk=None):
        services.delete_code(code=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=CodeMoveInput, responses=CodeOutput)
    @action(detail=True, methods=["post"])
    def move(self, request, project_pk=None, pk=None):
        """Move the code under another parent (null: to the top level)."""
        instance = self.get_object()
        data = self.validated(CodeMoveInput)
        code = services.move_code(code=instance, parent=data["parent"], order=data.get("order"))
        return self.respond(self._fresh(code))

    @extend_schema(request=CodeMergeInput, responses=CodeOutput)
    @action(detail=True, methods=["post"])
    def merge(self, request, project_pk=None, pk=None):
        """Merge this code into ``target``: its codings, sub-codes and memos move there."""
        instance = self.get_object()
        data = self.validated(CodeMergeInput)
        target = services.merge_codes(source=instance, target=data["target"])
        return self.respond(self._fresh(target))


class CodingFilter(django_filters.FilterSet):
    code_tree = django_filters.NumberFilter(
        method="filter_code_tree", help_text="A code id: its codings and those of its descendants."
    )

    # Co-occurrence drill-down (``coding.drilldown``): with ``code``, its codings that occur
    # together with a coding of ``with_code``, as the co-occurrence analytic counts them
    # (same coder filter; participant speech only unless include_interviewer).
    with_code = django_filters.NumberFilter(
        method="filter_later", help_text="With code: only its codings co-occurring with this code (id)."
    )
    together = django_filters.ChoiceFilter(
        choices=[(m, m) for m in drilldown.MODES], method="filter_later", help_text="Default overlap."
    )
    distance = django_filters.NumberFilter(method="filter_later", help_text="For together=nearby.")
    include_interviewer = django_filters.BooleanFilter(
        method="filter_later", help_text="Co-occurrence in interviewer turns counts too."
    )

    class Meta:
        model = Coding
        fields = ["interview", "code", "coder", "needs_review"]

    def filter_code_tree(self, queryset, name, value):
        code = Code.objects.filter(project=self.request.parser_context["view"].project, pk=value).first()
        if code is None:
            return queryset.none()
        return queryset.filter(code_id__in=selectors.code_subtree_ids(code))

    def filter_later(self, queryset, name, value):
        return queryset  # read together in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if data.get("with_code") is None:
            return queryset
        if data.get("code") is None:
            raise ValidationError({"code": "Give the code whose codings co-occur with with_code."})
        distance = data.get("distance") or 0
        if distance != int(distance):
            raise ValidationError({"distance": "Give a whole number of characters."})
        view = self.request.parser_context["view"]
        scope = analytics.make_scope(
            view.project,
            coder_id=data["coder"].pk if data.get("coder") else None,
            include_interviewer=bool(data.get("include_interviewer")),
            membership=view.membership,
        )
        together = drilldown.cooccurring_codings(
            scope,
            code_id=data["code"].pk,
            with_code_id=int(data["with_code"]),
            mode=data.get("together") or "overlap",
            distance=int(distance),
        )
        return queryset.filter(id__in=together.values("id"))


class CodingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Coded passages. Coders create codings and change their own; supervisors change any."""

    serializer_class = CodingOutput
    http_method_names = WRITE_METHODS
    write_role = Role.CODER
    filterset_class = CodingFilter
    ordering_fields = ["start", "end", "created_at", "updated_at", "interview"]
    ordering = ["interview", "start", "end", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Coding.objects.none()
        codings = selectors.codings_for_project(self.project)
        # Blind coding: another coder's coding on a blind interview is not found (404).
        codings = selectors.visible_codings(self.membership, codings)
        if self.action == "list":
            return CodingOutput.rows(codings.select_related(None))
        return codings

    def _fresh(self, coding):
        return selectors.attach_quotes([self.get_queryset().get(pk=coding.pk)])[0]

    def paginate_queryset(self, queryset):
        # Quotes are cut for the page only, from one read of each interview's text.
        return selectors.attach_quotes(super().paginate_queryset(queryset))

    def _record_read(self, coding=None):
        """Codings carry their quote: listing or opening them is a read of transcript text."""
        # Only the filters this list knows: the audit trail is append-only, so nothing a
        # client makes up (a name typed into an unknown parameter) may land in it.
        known = set(CodingFilter.base_filters) | {"ordering"}
        params = {k: v[:100] for k, v in self.request.query_params.items() if k in known}
        interview = coding.interview_id if coding else params.get("interview", "")
        audit.record_read(
            project=self.project,
            action="passages.listed",
            target_type="coding" if coding else "project",
            target_id=coding.pk if coding else self.project.pk,
            interview_id=int(interview) if str(interview).isdigit() else None,
            detail={"view": "codings API", "role": self.membership.role, "filters": params},
        )

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        self._record_read()
        return response

    def retrieve(self, request, *args, **kwargs):
        coding = self.get_object()
        response = self.respond(selectors.attach_quotes([coding])[0])
        self._record_read(coding)
        return response

    @extend_schema(
        request=CodingInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="A key made by the client for this one coding (up to 64 visible ASCII "
                "characters). A retry with the same key returns the coding already made (200) "
                "instead of a second one; the same key for another passage is refused (422).",
            )
        ],
        responses={201: CodingOutput, 200: CodingOutput},
    )
    def create(self, request, project_pk=None):
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 64 or not all("!" <= ch <= "~" for ch in key):
            raise ValidationError({"Idempotency-Key": ["Give at most 64 visible ASCII characters."]})
        data = self.validated(CodingInput)
        try:
            coding = services.create_coding(
                coder=request.user, coder_membership=self.membership, request_key=key, **data
            )
        except services.RequestKeyReused as exc:
            return Response(exc.message_dict, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        # The code and coder are already in hand: only the quote needs the database.
        coding.quote = selectors.quote_of(coding)
        if getattr(coding, "replayed", False):
            return self.respond(coding, status_code=status.HTTP_200_OK)
        return self.respond(coding, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=CodingUpdateInput, responses=CodingOutput)
    def partial_update(self, request, project_pk=None, pk=None):
        coding = self.get_object()
        require_own_or_supervise(self.membership, coding.coder_id, "coding")
        data = self.validated(CodingUpdateInput, partial=True)
        coding = services.update_coding(coding=coding, **data)
        return self.respond(self._fresh(coding))

    def destroy(self, request, project_pk=None, pk=None):
        coding = self.get_object()
        require_own_or_supervise(self.membership, coding.coder_id, "coding")
        services.delete_coding(coding=coding)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemoFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=MemoKind.choices)

    class Meta:
        model = Memo
        fields = ["kind", "author", "participant", "interview", "code", "coding"]


class MemoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Memos on the project, a participant, an interview, a code or a coding."""

    serializer_class = MemoOutput
    http_method_names = WRITE_METHODS
    write_role = Role.CODER
    filterset_class = MemoFilter
    ordering_fields = ["created_at", "updated_at", "title"]
    ordering = ["-updated_at", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Memo.objects.none()
        return selectors.visible_memos(self.membership, selectors.memos_for_project(self.project))

    @extend_schema(request=MemoInput, responses={201: MemoOutput})
    def create(self, request, project_pk=None):
        data = self.validated(MemoInput)
        memo = services.create_memo(project=self.project, author=request.user, **data)
        return self.respond(memo, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=MemoUpdateInput, responses=MemoOutput)
    def partial_update(self, request, project_pk=None, pk=None):
        memo = self.get_object()
        require_own_or_supervise(self.membership, memo.author_id, "memo")
        data = self.validated(MemoUpdateInput, partial=True)
        return self.respond(services.update_memo(memo=memo, **data))

    def destroy(self, request, project_pk=None, pk=None):
        memo = self.get_object()
        require_own_or_supervise(self.membership, memo.author_id, "memo")
        services.delete_memo(memo=memo)
        return Response(status=status.HTTP_204_NO_CONTENT)
