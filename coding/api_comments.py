"""Comments on one coding, in threads with a resolved flag (``coding.comments``).

A member who may not see the coding (blind coding) gets 404 here, as for the coding itself.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from interviews.api_base import WRITE_METHODS, ProjectScopedViewSet, StrictSerializer, etag_of
from interviews.models import Role

from . import comments
from .models import CodingComment


class CommentOutput(serializers.ModelSerializer):
    author_username = serializers.CharField(source="author.username", read_only=True)
    resolved_by_username = serializers.CharField(
        source="resolved_by.username", read_only=True, default=None, allow_null=True
    )
    etag = serializers.SerializerMethodField(
        help_text="The comment's version: send it as If-Match to change or delete it"
    )

    class Meta:
        model = CodingComment
        fields = [
            "id",
            "coding",
            "parent",
            "author",
            "author_username",
            "text",
            "resolved",
            "resolved_by",
            "resolved_by_username",
            "resolved_at",
            "created_at",
            "updated_at",
            "etag",
        ]

    def get_etag(self, comment) -> str:
        return etag_of(comment)


class CommentInput(StrictSerializer):
    text = serializers.CharField(max_length=comments.MAX_LENGTH)
    parent = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Reply to this comment's thread (a comment on the same coding)",
    )


class CommentUpdateInput(StrictSerializer):
    text = serializers.CharField(required=False, max_length=comments.MAX_LENGTH, help_text="Authors only")
    resolved = serializers.BooleanField(required=False, help_text="Resolve or reopen the comment's thread")


@extend_schema(
    parameters=[
        OpenApiParameter("coding_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Coding id")
    ]
)
class CodingCommentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Threads of comments on a coding. Coders and above comment, reply and resolve."""

    serializer_class = CommentOutput
    http_method_names = WRITE_METHODS
    write_role = Role.CODER
    pagination_class = None
    filter_backends: list = []

    def coding(self):
        if getattr(self, "_coding", None) is None:
            self._coding = comments.visible_coding(self.membership, self.kwargs.get("coding_pk"))
        return self._coding

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CodingComment.objects.none()
        return comments.comments_of(self.coding())

    @extend_schema(request=CommentInput, responses={201: CommentOutput})
    def create(self, request, project_pk=None, coding_pk=None):
        data = self.validated(CommentInput)
        parent = None
        if data.get("parent") is not None:
            parent = self.get_queryset().filter(pk=data["parent"]).first()
            if parent is None:
                raise serializers.ValidationError({"parent": ["No such comment on this coding."]})
        comment = comments.add_comment(
            membership=self.membership, coding=self.coding(), text=data["text"], parent=parent
        )
        return self.respond(comment, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=CommentUpdateInput, responses=CommentOutput)
    def partial_update(self, request, project_pk=None, coding_pk=None, pk=None):
        comment = self.get_object()
        data = self.validated(CommentUpdateInput, partial=True)
        if "text" in data:
            comment = comments.edit_comment(membership=self.membership, comment=comment, text=data["text"])
        if "resolved" in data:
            root = comments.resolve_thread(
                membership=self.membership, comment=comment, resolved=data["resolved"]
            )
            if root.pk == comment.pk:
                comment = root
        return self.respond(self.get_queryset().get(pk=comment.pk))

    def destroy(self, request, project_pk=None, coding_pk=None, pk=None):
        comments.delete_comment(membership=self.membership, comment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
