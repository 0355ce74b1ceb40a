"""Pages for two-factor authentication: set up, verify after sign-in, backup codes, remove.

Thin: each calls one function of ``accounts.services`` and shows its ValidationError
next to the code field.
"""

import base64
import io
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_safe

from interviews import services as project_services
from interviews.access import second_factor_verified
from interviews.models import Role
from interviews.pages import project_action

from . import services
from .forms import CodeForm, TwoFactorRequirementForm


def _next(request, default="project-list"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _with_next(name: str, request) -> str:
    target = _next(request, "")
    return f"{reverse(name)}?{urlencode({'next': target})}" if target else reverse(name)


def _code_errors(form, error: ValidationError):
    for messages_ in error.message_dict.values():
        for message in messages_:
            form.add_error("code", message)


@login_required
@require_safe
def overview(request):
    user = request.user
    context = {
        "enabled": services.has_two_factor(user),
        "verified": second_factor_verified(user),
        "backup_codes_left": services.backup_codes_left(user),
    }
    return render(request, "accounts/two_factor.html", context)


def _qr_data_uri(uri: str) -> str:
    """The otpauth URI as an SVG QR code, inline as a data: URI (CSP allows data: images, and
    nothing is marked safe)."""
    out = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2).save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _secret_of(device) -> str:
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    if services.has_two_factor(request.user):
        messages.info(request, "Two-factor authentication is already set up for your account.")
        return redirect("two-factor")
    device = services.start_authenticator(user=request.user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device, codes = services.confirm_authenticator(
                    user=request.user, code=form.cleaned_data["code"]
                )
            except ValidationError as error:
                _code_errors(form, error)
            else:
                services.mark_session_verified(request, device)
                return render(
                    request,
                    "accounts/backup_codes.html",
                    {"codes": codes, "just_enabled": True, "next": _next(request, "")},
                )
        status = 400
    context = {
        "form": form,
        "qr": _qr_data_uri(device.config_url),
        "secret": _secret_of(device),
        "otpauth_uri": device.config_url,
        "next": _next(request, ""),
    }
    return render(request, "accounts/setup.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    if not services.has_two_factor(request.user):
        return redirect(_with_next("two-factor-setup", request))
    if second_factor_verified(request.user):
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.verify_session(request=request, code=form.cleaned_data["code"])
            except ValidationError as error:
                _code_errors(form, error)
            else:
                return redirect(_next(request))
        return render(request, "accounts/verify.html", {"form": form, "next": _next(request, "")}, status=400)
    return render(request, "accounts/verify.html", {"form": form, "next": _next(request, "")})


@login_required
@require_http_methods(["GET", "POST"])
def backup_codes(request):
    if not services.has_two_factor(request.user):
        return redirect("two-factor-setup")
    if not second_factor_verified(request.user):
        return redirect("two-factor-verify")
    if request.method == "POST":
        codes = services.new_backup_codes(user=request.user)
        return render(request, "accounts/backup_codes.html", {"codes": codes, "just_enabled": False})
    return render(
        request,
        "accounts/backup_codes.html",
        {"codes": None, "left": services.backup_codes_left(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def remove(request):
    if not services.has_two_factor(request.user):
        return redirect("two-factor")
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.remove_two_factor(user=request.user, code=form.cleaned_data["code"], request=request)
            except ValidationError as error:
                _code_errors(form, error)
            else:
                messages.success(request, "Two-factor authentication is off for your account.")
                return redirect("two-factor")
        return render(request, "accounts/remove.html", {"form": form}, status=400)
    return render(request, "accounts/remove.html", {"form": form})


@project_action(Role.OWNER, "project-home")
def project_requirement(request, membership):
    """The owner's switch: require two-factor authentication of every member of the project."""
    form = TwoFactorRequirementForm(request.POST)
    form.is_valid()  # a checkbox: absent means off
    try:
        project_services.set_two_factor_requirement(
            project=membership.project,
            required=form.cleaned_data.get("require_two_factor", False),
            verified=second_factor_verified(request.user),
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if membership.project.require_two_factor:
            messages.success(request, "Every member now needs two-factor authentication for this project.")
        else:
            messages.success(request, "Two-factor authentication is no longer required for this project.")
    return redirect("project-home", project_pk=membership.project_id)
