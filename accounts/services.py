"""Two-factor authentication: enrolment, verification, backup codes, removal, API tokens.

Plain keyword-only functions that pages, the API and the admin call. TOTP and backup
codes are django-otp's devices (``otp_totp``, ``otp_static``); every code is checked
through ``django_otp.verify_token``, which locks the device row and applies the
device's throttling (after a wrong code the device waits 1, 2, 4 … seconds).
"""

import logging

from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY, verify_token
from django_otp import login as otp_login
from django_otp.models import VerifyNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from interviews.access import second_factor_verified as is_verified  # noqa: F401 - one definition

from .models import TokenGrant

logger = logging.getLogger(__name__)

# Set at password sign-in for someone with a confirmed authenticator, cleared by a code.
PENDING_SESSION_KEY = "two_factor_pending"
BACKUP_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_NAME = "Backup codes"


def authenticator_of(user, *, confirmed=True) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=confirmed).order_by("id").first()


def has_two_factor(user) -> bool:
    """Whether the user has set up an authenticator app (backup codes alone do not count)."""
    return bool(getattr(user, "is_authenticated", False)) and (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    )


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# ---------------------------------------------------------------- enrolment


@transaction.atomic
def start_authenticator(*, user) -> TOTPDevice:
    """The unconfirmed authenticator the user is setting up (the same one until confirmed)."""
    if has_two_factor(user):
        raise ValidationError({"code": "Two-factor authentication is already set up for this account."})
    device = authenticator_of(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


# Codes are checked outside the functions' own transactions: a wrong code must leave its
# throttling record behind even though the function then fails.


def confirm_authenticator(*, user, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator being set up with a code it shows; returns the device and
    ten new backup codes (shown once: only the codes' owner ever sees them)."""
    device = authenticator_of(user, confirmed=False)
    if device is None:
        raise ValidationError({"code": "Start setting up two-factor authentication first."})
    _check(user=user, device=device, code=code)
    with transaction.atomic():
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        device.refresh_from_db()
        codes = _replace_backup_codes(user)
    logger.info("two-factor authentication set up for user %s", user.pk)
    return device, codes


@transaction.atomic
def new_backup_codes(*, user) -> list[str]:
    """Ten new single-use backup codes; the earlier ones stop working."""
    if not has_two_factor(user):
        raise ValidationError({"code": "Set up an authenticator app before backup codes."})
    return _replace_backup_codes(user)


def _replace_backup_codes(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = []
    while len(codes) < BACKUP_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


# ---------------------------------------------------------------- verification


def _normalise(code) -> str:
    return "".join(str(code or "").split()).lower()


def device_for_code(user, code: str):
    """As many digits as the authenticator shows (six) make an authenticator code; anything
    else (backup codes have eight characters) is tried as a backup code. Choosing the device
    by the code's form, instead of trying every device, keeps a wrong authenticator code from
    throttling the backup codes, and the reverse."""
    authenticator = authenticator_of(user)
    if authenticator is not None and code.isdigit() and len(code) == authenticator.digits:
        return authenticator
    return StaticDevice.objects.devices_for_user(user, confirmed=True).order_by("id").first()


def _check(*, user, device, code: str, field: str = "code"):
    code = _normalise(code)
    if not code:
        raise ValidationError({field: "Enter the code from your authenticator app or a backup code."})
    if device is None:
        raise ValidationError({field: "That code is not right. Check your authenticator app and try again."})
    allowed, extra = device.verify_is_allowed()
    if not allowed:
        if extra and extra.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
            wait = extra["locked_until"]
            raise ValidationError(
                {
                    field: f"Too many wrong codes ({extra['failure_count']}): wait until "
                    f"{wait:%H:%M:%S} UTC before trying again."
                }
            )
        raise ValidationError({field: "Codes cannot be checked for this account at the moment."})
    verified = verify_token(user, device.persistent_id, code)
    if verified is None:
        logger.warning("wrong second-factor code for user %s", user.pk)
        raise ValidationError({field: "That code is not right. Check your authenticator app and try again."})
    return verified


def check_code(*, user, code, field: str = "code"):
    """The device that accepts ``code`` (an authenticator code or an unused backup code, which
    is then spent), or ValidationError naming ``field`` (wrong, missing or throttled)."""
    if not has_two_factor(user):
        raise ValidationError({field: "This account has no two-factor authentication set up."})
    code = _normalise(code)
    return _check(user=user, device=device_for_code(user, code), code=code, field=field)


def mark_session_verified(request, device) -> None:
    """Record in the session that its user gave a second factor (a fresh session key, too)."""
    request.session.cycle_key()
    otp_login(request, device)
    request.session.pop(PENDING_SESSION_KEY, None)


def verify_session(*, request, code: str):
    """The verification step after a password sign-in."""
    device = check_code(user=request.user, code=code)
    mark_session_verified(request, device)
    return device


# ---------------------------------------------------------------- removal


def remove_two_factor(*, user, code: str, request=None) -> None:
    """Turn two-factor authentication off, which needs a current code (or a backup code).
    API tokens issued with a second factor end with it."""
    check_code(user=user, code=code)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        Token.objects.filter(user=user, grant__second_factor=True).delete()
    if request is not None and request.session.get(SESSION_KEY):
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        request.session.pop(PENDING_SESSION_KEY, None)
        request.user.otp_device = None
    logger.info("two-factor authentication removed for user %s", user.pk)


# ---------------------------------------------------------------- API tokens


def issue_token(*, user, otp: str | None) -> tuple[Token, TokenGrant]:
    """The user's API token after a correct password.

    Someone with two-factor authentication must also give ``otp`` (an authenticator or
    backup code); the token is then marked as issued with a second factor. If their
    current token was issued without one, it is replaced by a new key. Someone without
    two-factor authentication gets a token marked without a second factor, which
    projects that require two-factor authentication refuse.
    """
    if has_two_factor(user):
        if not _normalise(otp):
            raise ValidationError(
                {
                    "otp": "This account uses two-factor authentication: give the code from your "
                    "authenticator app (or a backup code) as otp."
                }
            )
        check_code(user=user, code=otp, field="otp")
        second_factor = True
    elif _normalise(otp):
        raise ValidationError({"otp": "This account has no two-factor authentication set up."})
    else:
        second_factor = False

    stamp = user.get_session_auth_hash()
    with transaction.atomic():
        token = Token.objects.select_for_update().filter(user=user).first()
        grant = TokenGrant.objects.filter(token=token).first() if token else None
        # A token without a grant, from before the password changed, or issued without the
        # second factor now given, is replaced: its old key stops working.
        if (
            token is None
            or grant is None
            or grant.password_stamp != stamp
            or grant.second_factor != second_factor
        ):
            if token is not None:
                token.delete()
            token = Token.objects.create(user=user)
            grant = TokenGrant.objects.create(token=token, second_factor=second_factor, password_stamp=stamp)
    return token, grant
