from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import SimpleRouter

from coding.api import CodeViewSet, CodingViewSet, MemoViewSet
from interviews.api import (
    AttributeDefinitionViewSet,
    InterviewViewSet,
    MemberViewSet,
    ParticipantViewSet,
    ProjectViewSet,
)

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
project = r"projects/(?P<project_pk>[0-9]+)"
router.register(f"{project}/members", MemberViewSet, basename="member")
router.register(f"{project}/attributes", AttributeDefinitionViewSet, basename="attribute")
router.register(f"{project}/participants", ParticipantViewSet, basename="participant")
router.register(f"{project}/interviews", InterviewViewSet, basename="interview")
router.register(f"{project}/codes", CodeViewSet, basename="code")
router.register(f"{project}/codings", CodingViewSet, basename="coding")
router.register(f"{project}/memos", MemoViewSet, basename="memo")

api_urlpatterns = [
    path("", include(router.urls)),
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_urlpatterns)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("interviews.urls")),
    path("", include("coding.urls")),
]
