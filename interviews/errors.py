"""Errors the services of both apps raise."""

from django.core.exceptions import ValidationError


class AlreadyExists(ValidationError):
    """Valid input that collides with a record already there: a second coding of the same
    passage with the same code, a code or participant name taken, a member added twice. The API
    answers 409 Conflict (with the field and message, as for any validation error); pages show
    it beside the field like any other."""
