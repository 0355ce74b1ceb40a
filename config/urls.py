from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from accounts.api import ObtainAuthToken
from coding.api import CodeViewSet, CodingViewSet, MemoViewSet
from coding.api_agreement import AgreementViewSet
from coding.api_analytics import AnalyticsViewSet, SavedQueryViewSet
from coding.api_audit import AuditEventViewSet
from coding.api_comments import CodingCommentViewSet
from coding.api_consensus import ConsensusViewSet, DisagreementViewSet
from coding.api_exports import ExportJobViewSet
from coding.api_review import AssignmentViewSet, InterviewReviewViewSet
from coding.api_workbench import CodingDataViewSet
from interviews.api import (
    AttributeDefinitionViewSet,
    InterviewViewSet,
    MemberViewSet,
    ParticipantViewSet,
    ProjectViewSet,
)
from interviews.api_import import (
    AllowedWordViewSet,
    ImportFileViewSet,
    ImportViewSet,
    InterviewRedactionViewSet,
    SensitiveTermViewSet,
)

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
project = r"projects/(?P<project_pk>[0-9]+)"
router.register(f"{project}/members", MemberViewSet, basename="member")
router.register(f"{project}/attributes", AttributeDefinitionViewSet, basename="attribute")
router.register(f"{project}/participants", ParticipantViewSet, basename="participant")
router.register(f"{project}/interviews", InterviewViewSet, basename="interview")
router.register(f"{project}/imports", ImportViewSet, basename="import")
router.register(f"{project}/import-files", ImportFileViewSet, basename="import-file")
router.register(f"{project}/sensitive-terms", SensitiveTermViewSet, basename="sensitive-term")
router.register(f"{project}/allowed-words", AllowedWordViewSet, basename="allowed-word")
router.register(
    rf"{project}/interviews/(?P<interview_pk>[0-9]+)/redactions",
    InterviewRedactionViewSet,
    basename="interview-redaction",
)
router.register(f"{project}/codes", CodeViewSet, basename="code")
router.register(f"{project}/codings", CodingViewSet, basename="coding")
router.register(f"{project}/memos", MemoViewSet, basename="memo")
router.register(f"{project}/agreement", AgreementViewSet, basename="agreement")
interview = rf"{project}/interviews/(?P<interview_pk>[0-9]+)"
router.register(f"{interview}/disagreements", DisagreementViewSet, basename="disagreement")
router.register(f"{interview}/consensus", ConsensusViewSet, basename="consensus")
router.register(
    rf"{project}/codings/(?P<coding_pk>[0-9]+)/comments", CodingCommentViewSet, basename="coding-comment"
)
router.register(f"{project}/analytics/saved-queries", SavedQueryViewSet, basename="saved-query")
router.register(f"{project}/analytics", AnalyticsViewSet, basename="analytics")
router.register(f"{project}/exports", ExportJobViewSet, basename="export")
router.register(f"{project}/audit", AuditEventViewSet, basename="audit-event")
router.register(f"{project}/assignments", AssignmentViewSet, basename="assignment")
router.register(
    rf"{project}/interviews/(?P<interview_pk>[0-9]+)/review",
    InterviewReviewViewSet,
    basename="interview-review",
)

api_urlpatterns = [
    path("", include(router.urls)),
    path("", include("coding.api_exchange")),
    path(
        "projects/<int:project_pk>/interviews/<int:pk>/coding-data/",
        CodingDataViewSet.as_view({"get": "retrieve"}),
        name="interview-coding-data",
    ),
    path("auth/token/", ObtainAuthToken.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:api-schema"), name="api-docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include((api_urlpatterns, "api"))),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("accounts.urls")),
    path("", include("interviews.urls")),
    path("", include("coding.urls")),
]
