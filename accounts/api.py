"""``POST /api/auth/token/``: an API token for a password, plus a code for two-factor accounts."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.response import Response

from config.rest import ObtainAuthToken as PasswordTokenView

from . import services


class TokenRequest(AuthTokenSerializer):
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="For accounts with two-factor authentication: a code from the authenticator app "
        "or an unused backup code.",
    )


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()
    second_factor = serializers.BooleanField(
        help_text="Whether the token was issued with a second factor; only such tokens reach "
        "projects that require two-factor authentication."
    )


class ObtainAuthToken(PasswordTokenView):
    """A token for the username and password (login throttling applies, as on the login form).

    Accounts with two-factor authentication must also give ``otp``; their token is then
    accepted by projects that require two-factor authentication. A token issued without
    a second factor is refused (403) by those projects.
    """

    serializer_class = TokenRequest

    @extend_schema(request=TokenRequest, responses=TokenOutput)
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token, grant = services.issue_token(
                user=serializer.validated_data["user"], otp=serializer.validated_data.get("otp")
            )
        except ValidationError as error:
            return Response(error.message_dict, status=400)
        return Response({"token": token.key, "second_factor": grant.second_factor})
