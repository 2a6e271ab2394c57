"""E-mail confirmation: the link that confirms an address, and "Resend confirmation"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import services


@require_GET
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """/accounts/confirm-email/<token>/: the mailed link. Confirms the address it was sent to."""
    user = services.email_confirm(token=token)
    if user is None:
        return render(request, "registration/email_confirm.html", {"invalid": True}, status=404)
    if request.user.is_authenticated and request.user.pk == user.pk:
        messages.success(request, _("Thank you: %(email)s is confirmed.") % {"email": user.email})
        return HttpResponseRedirect("/")
    return render(request, "registration/email_confirm.html", {"confirmed_email": user.email})


@login_required
@require_POST
def email_confirm_resend(request: HttpRequest) -> HttpResponse:
    """POST /accounts/confirm-email/: mail the logged-in user a new confirmation link."""
    user = request.user
    if user.email_confirmed_at is not None:
        messages.info(request, _("Your e-mail address is confirmed already."))
    elif services.email_confirmation_send(user=user):
        messages.success(
            request,
            _("We sent a confirmation link to %(email)s. Open it to confirm your address.")
            % {"email": user.email},
        )
    else:
        messages.warning(
            request,
            _("We sent a link to %(email)s a few minutes ago: please look in your inbox first.")
            % {"email": user.email},
        )
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return HttpResponseRedirect(target)
