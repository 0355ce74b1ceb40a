"""A password sign-in of someone with two-factor authentication is only half a sign-in."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import services


@receiver(user_logged_in, dispatch_uid="accounts.second_factor_pending")
def mark_second_factor_pending(sender, request, user, **kwargs):
    # One query per sign-in, none per request: the gate (middleware) reads the session flag.
    if request is not None and hasattr(request, "session") and services.has_two_factor(user):
        request.session[services.PENDING_SESSION_KEY] = True
