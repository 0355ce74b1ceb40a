"""What the app keeps about API tokens beyond DRF's ``Token``: how each was issued."""

from django.db import models
from rest_framework.authtoken.models import Token


class TokenGrant(models.Model):
    """How an API token was issued.

    ``second_factor`` is true when the token was issued after the user gave a code from
    their authenticator app (or a backup code): only such tokens reach projects that
    require two-factor authentication. ``password_stamp`` is the user's session
    authentication hash at issue, so changing the password ends the token as it ends
    the user's other sessions. A token without a grant (made in the admin or before
    grants existed) counts as issued without a second factor.
    """

    token = models.OneToOneField(Token, on_delete=models.CASCADE, primary_key=True, related_name="grant")
    second_factor = models.BooleanField(default=False)
    password_stamp = models.CharField(max_length=128, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"token of {self.token.user_id} ({'with' if self.second_factor else 'without'} second factor)"
