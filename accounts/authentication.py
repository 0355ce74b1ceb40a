"""API token authentication that knows how the token was issued."""

from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (same query, joined with the token's grant), plus:

    - ``user.is_verified()`` is true only for a token issued after a second factor, so
      ``access.get_membership`` applies the same two-factor policy as for sessions
      (django-otp's middleware does not see DRF's token authentication);
    - a token issued before the user's password changed no longer works.
    """

    def authenticate_credentials(self, key):
        model = self.get_model()
        token = model.objects.select_related("user", "grant").filter(key=key).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        grant = getattr(token, "grant", None)
        if (
            grant is not None
            and grant.password_stamp
            and grant.password_stamp != user.get_session_auth_hash()
        ):
            raise exceptions.AuthenticationFailed("The password changed since this token was issued.")
        second_factor = grant is not None and grant.second_factor
        user.otp_device = None
        user.is_verified = lambda: second_factor
        return user, token
