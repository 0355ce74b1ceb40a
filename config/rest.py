"""REST framework plumbing: paging and error translation (no domain logic)."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.decorators import method_decorator
from rest_framework import status
from rest_framework.authtoken import views as authtoken_views
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from config.middleware import DATABASE_UNAVAILABLE, DATABASE_UNAVAILABLE_MESSAGE, RETRY_AFTER_SECONDS
from interviews.errors import AlreadyExists

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        # DRF silently ignores a malformed page_size; say so instead (the schema says an integer).
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValidationError({self.page_size_query_param: ["Give a whole number from 1."]})
        return super().get_page_size(request)


def exception_handler(exc, context):
    """Django's own validation errors and integrity races become 400/409 answers, and a lost
    database connection 503, not 500s."""
    if isinstance(exc, DATABASE_UNAVAILABLE):
        # The connection is gone: nothing was written; say so and when to retry (FT4).
        set_rollback()
        logger.warning("database unavailable on %s", context["view"].__class__.__name__)
        return Response(
            {"detail": DATABASE_UNAVAILABLE_MESSAGE},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DjangoValidationError | ProtectedError | IntegrityError):
        # Whatever the request wrote before the error is undone, as for DRF's own errors.
        set_rollback()
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
        else:
            detail = {"non_field_errors": exc.messages}
        if isinstance(exc, AlreadyExists):
            return Response(detail, status=status.HTTP_409_CONFLICT)
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ProtectedError):
        return Response(
            {"detail": "Other records still depend on this one; it was not deleted."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IntegrityError):
        # Never echo the database message: it can quote the row's values.
        logger.warning("integrity conflict on %s", context["view"].__class__.__name__)
        return Response(
            {"detail": "This conflicts with a record that already exists."},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class ObtainAuthToken(authtoken_views.ObtainAuthToken):
    """Token login that authenticates with the Django request, so login throttling sees it
    exactly as it sees the login form. Outside the request transaction: a refused login
    answers 400, which rolls the request back, and the failure record must survive it."""

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["request"] = self.request._request
        return context
