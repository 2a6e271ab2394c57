from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView, TemplateView

from . import selectors, services
from .api.authentication import pending_requests
from .auth import signup_attempt_allowed
from .forms import (
    APIKeyCreateForm,
    InvitationForm,
    MembershipRoleForm,
    NewAccountForm,
    OrganizationCreateForm,
    OrganizationSettingsForm,
    ProfileForm,
    SignUpForm,
)
from .language import SESSION_KEY, language_of_request
from .models import Role
from .selectors import memberships_of_user
from .views_base import OrgViewMixin


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """/favicon.ico, which browsers and feed readers ask for without reading the page's <link>:
    the app's icon, so the log and the console show no 404."""
    return HttpResponseRedirect(static("img/favicon.ico"))


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: the database and, when configured, the Celery broker."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # a health check reports, it does not raise
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.CELERY_BROKER_URL:
        from leadpilot.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {exc.__class__.__name__}"
    else:
        checks["broker"] = "eager (no broker configured)"
    healthy = all(v == "ok" or v.startswith("eager") for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


def home(request: HttpRequest) -> HttpResponse:
    """/ : the user's first organisation, or the login page."""
    if not request.user.is_authenticated:
        return redirect("login")
    first = memberships_of_user(user=request.user).first()
    if first is None:
        return redirect("organization-create")
    return redirect("org-home", org_slug=first.organization.slug)


class SignUpView(FormView):
    """Sign-up answers the same whether or not the address has an account (only the mailbox
    learns, `services.signup_request`), and is limited per client address."""

    template_name = "registration/signup.html"
    form_class = SignUpForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not signup_attempt_allowed(request):
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None,
                _(
                    "Too many sign-up attempts from your network. Please try again in an hour, "
                    "or log in if you have an account."
                ),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: SignUpForm) -> HttpResponse:
        services.signup_request(
            email=form.cleaned_data["email"],
            organization_name=form.cleaned_data["organization_name"],
            terms_version=settings.LEADPILOT_POLICY_VERSION,  # the box is required
        )
        return HttpResponseRedirect(reverse("signup-sent"))


class SignUpSentView(TemplateView):
    """After sign-up, whatever the address: look in your inbox."""

    template_name = "registration/signup_sent.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["interval_minutes"] = settings.LEADPILOT_PASSWORD_RESET_INTERVAL_MINUTES
        return context


class SignUpConfirmView(View):
    """/accounts/signup/<token>/: the e-mailed sign-up link. Its holder chooses a name and
    password; the account and the organisation are created then, and they are logged in."""

    template_name = "registration/signup_confirm.html"

    def _render(
        self, request: HttpRequest, context: dict[str, Any], status: int = 200
    ) -> HttpResponse:
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        signup = services.signup_request_read(token=token)
        if signup is None:
            return self._render(request, {"invalid": True}, status=404)
        form = NewAccountForm(email=signup.email)
        return self._render(request, {"signup": signup, "form": form})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        signup = services.signup_request_read(token=token)
        if signup is None:
            return self._render(request, {"invalid": True}, status=404)
        form = NewAccountForm(request.POST, email=signup.email)
        context = {"signup": signup, "form": form}
        if not form.is_valid():
            return self._render(request, context, status=400)
        try:
            organization, user = services.signup_confirm(
                token=token,
                password=form.cleaned_data["password"],
                full_name=form.cleaned_data["full_name"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self._render(request, context, status=400)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            _("Welcome to LeadPilot. You are the owner of %(name)s.") % {"name": organization.name},
        )
        return HttpResponseRedirect(reverse("org-home", kwargs={"org_slug": organization.slug}))


class ProfileView(LoginRequiredMixin, FormView):
    """The signed-in person's own settings (the digest mail links here to turn it off)."""

    template_name = "registration/profile.html"
    form_class = ProfileForm

    def get_initial(self) -> dict[str, Any]:
        user = self.request.user
        return {
            "full_name": user.full_name,
            "wants_digest": user.wants_digest,
            "language": user.language,
        }

    def form_valid(self, form: ProfileForm) -> HttpResponse:
        services.user_profile_update(
            user=self.request.user,
            full_name=form.cleaned_data["full_name"],
            wants_digest=form.cleaned_data["wants_digest"],
            language=form.cleaned_data["language"],
        )
        # The switch's session copy would outrank the profile's new choice.
        self.request.session.pop(SESSION_KEY, None)
        translation.activate(language_of_request(self.request))
        messages.success(self.request, _("Profile saved."))
        return HttpResponseRedirect(reverse("profile"))


class OrganizationCreateView(LoginRequiredMixin, FormView):
    """A logged-in user starts another organisation (or a first one after leaving all)."""

    template_name = "organizations/organization_create.html"
    form_class = OrganizationCreateForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["has_organizations"] = memberships_of_user(user=self.request.user).exists()
        return context

    def form_valid(self, form: OrganizationCreateForm) -> HttpResponse:
        try:
            organization = services.organization_create(
                name=form.cleaned_data["name"], owner=self.request.user
            )
        except ValidationError as exc:
            form.add_error("name", exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(name)s is ready. You are its owner.") % {"name": organization.name},
        )
        return redirect("org-home", org_slug=organization.slug)


class OrgHomeView(OrgViewMixin, TemplateView):
    template_name = "organizations/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if self.membership.has_role(Role.ADMIN):
            context["audit_events"] = list(
                selectors.audit_events(organization=self.organization, limit=10)
            )
        return context


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _revoked_keys_text(count: int, *, own: bool = False) -> str:
    if own:
        text = ngettext(
            "The API key you created was revoked.",
            "The %(count)d API keys you created were revoked.",
            count,
        )
    else:
        text = ngettext(
            "The API key they created was revoked.",
            "The %(count)d API keys they created were revoked.",
            count,
        )
    return text % {"count": count}


class OrgSettingsView(OrgViewMixin, FormView):
    """Organisation settings (admins)."""

    required_role = Role.ADMIN
    template_name = "organizations/settings.html"
    form_class = OrganizationSettingsForm

    def get_initial(self) -> dict[str, Any]:
        org = self.organization
        return {field: getattr(org, field) for field in services.SETTINGS_FIELDS}

    def form_valid(self, form: OrganizationSettingsForm) -> HttpResponse:
        try:
            services.organization_update_settings(
                organization=self.organization, actor=self.request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Settings saved."))
        return redirect("org-settings", org_slug=self.organization.slug)


class MembersView(OrgViewMixin, TemplateView):
    """Everyone sees who is in the organisation; owners also invite and manage roles."""

    template_name = "organizations/members.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["members"] = list(selectors.organization_members(organization=self.organization))
        context["can_manage"] = self.membership.has_role(Role.OWNER)
        context["roles"] = Role.choices
        if context["can_manage"]:
            # Removing or demoting a member below admin revokes the keys they created: the
            # confirmation says how many.
            usable = selectors.api_key_counts_by_creator(organization=self.organization)
            for member in context["members"]:
                member.usable_key_count = usable.get(member.user_id, 0)
            context["invite_form"] = InvitationForm()
            context["pending_count"] = selectors.invitations_pending(
                organization=self.organization
            ).count()
        return context


class MemberRoleView(OrgViewMixin, View):
    required_role = Role.OWNER

    def post(self, request: HttpRequest, org_slug: str, membership_id: int) -> HttpResponse:
        form = MembershipRoleForm(request.POST)
        try:
            membership = selectors.membership_get(
                organization=self.organization, membership_id=membership_id
            )
        except ObjectDoesNotExist:
            raise Http404("No such member") from None
        if not form.is_valid():
            messages.error(request, _("Choose one of the roles owner, admin or member."))
        else:
            keys = selectors.api_key_counts_by_creator(organization=self.organization).get(
                membership.user_id, 0
            )
            try:
                changed = services.membership_change_role(
                    organization=self.organization,
                    membership_id=membership.pk,
                    role=form.cleaned_data["role"],
                    actor=request.user,
                )
            except ValidationError as exc:
                messages.error(request, _error_text(exc))
            else:
                text = _("%(email)s is now %(role)s.") % {
                    "email": membership.user.email,
                    "role": Role(changed.role).label.lower(),
                }
                if keys and not changed.has_role(Role.ADMIN):
                    text += " " + _revoked_keys_text(keys)
                messages.success(request, text)
        return redirect("org-members", org_slug=org_slug)


class MemberRemoveView(OrgViewMixin, View):
    required_role = Role.OWNER

    def post(self, request: HttpRequest, org_slug: str, membership_id: int) -> HttpResponse:
        try:
            membership = selectors.membership_get(
                organization=self.organization, membership_id=membership_id
            )
        except ObjectDoesNotExist:
            raise Http404("No such member") from None
        try:
            revoked = services.membership_remove(
                organization=self.organization, membership_id=membership.pk, actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            return redirect("org-members", org_slug=org_slug)
        own = membership.user_id == request.user.pk
        suffix = f" {_revoked_keys_text(revoked, own=own)}" if revoked else ""
        if own:
            messages.success(
                request, _("You left %(name)s.") % {"name": self.organization.name} + suffix
            )
            return redirect("home")
        messages.success(
            request, _("%(email)s was removed.") % {"email": membership.user.email} + suffix
        )
        return redirect("org-members", org_slug=org_slug)


class InvitationsView(OrgViewMixin, FormView):
    """Pending invitations and the invite form (owners)."""

    required_role = Role.OWNER
    template_name = "organizations/invitations.html"
    form_class = InvitationForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["invitations"] = list(selectors.invitations_pending(organization=self.organization))
        return context

    def form_valid(self, form: InvitationForm) -> HttpResponse:
        try:
            invitation, _token = services.invitation_create(
                organization=self.organization,
                invited_by=self.request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            ngettext(
                "Invitation sent to %(email)s. The link is valid for %(days)d day.",
                "Invitation sent to %(email)s. The link is valid for %(days)d days.",
                services.INVITATION_VALID_FOR.days,
            )
            % {"email": invitation.email, "days": services.INVITATION_VALID_FOR.days},
        )
        return redirect("org-invitations", org_slug=self.organization.slug)


class InvitationRevokeView(OrgViewMixin, View):
    required_role = Role.OWNER

    def post(self, request: HttpRequest, org_slug: str, invitation_id: int) -> HttpResponse:
        try:
            invitation = services.invitation_revoke(
                organization=self.organization, invitation_id=invitation_id, actor=request.user
            )
        except ObjectDoesNotExist:
            raise Http404("No such invitation") from None
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            return redirect("org-invitations", org_slug=org_slug)
        if request.htmx:  # type: ignore[attr-defined]
            return render(
                request,
                "organizations/_invitation_row.html",
                {"invitation": invitation, "organization": self.organization},
            )
        messages.success(
            request,
            _("The invitation for %(email)s was revoked.") % {"email": invitation.email},
        )
        return redirect("org-invitations", org_slug=org_slug)


class APIKeysView(OrgViewMixin, TemplateView):
    """API keys (admins): create (the full key is shown once, in the response) and list."""

    required_role = Role.ADMIN
    template_name = "organizations/api_keys.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", APIKeyCreateForm())
        api_keys = list(selectors.api_keys_of_organization(organization=self.organization))
        # The requests counted since a key's last once-a-minute write, so the count is current.
        pending = pending_requests(api_keys)
        for api_key in api_keys:
            api_key.request_count += pending[api_key.pk]
        context["api_keys"] = api_keys
        context["api_docs_url"] = reverse("api-docs")
        context["api_base_url"] = self.request.build_absolute_uri(
            f"/api/v1/orgs/{self.organization.slug}/"
        )
        return context

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        form = APIKeyCreateForm(request.POST)
        if form.is_valid():
            try:
                api_key, full_key = services.api_key_create(
                    organization=self.organization,
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                # Rendered, not redirected: the full key must never be stored, not even in the
                # session, so this response is the only place it appears.
                response = self.render_to_response(
                    self.get_context_data(
                        form=APIKeyCreateForm(), new_key=full_key, new_key_row=api_key
                    ),
                    status=201,
                )
                response["Cache-Control"] = "no-store"
                return response
        return self.render_to_response(self.get_context_data(form=form), status=400)


class APIKeyRevokeView(OrgViewMixin, View):
    required_role = Role.ADMIN

    def post(self, request: HttpRequest, org_slug: str, key_id: str) -> HttpResponse:
        try:
            api_key = services.api_key_revoke(
                organization=self.organization, key_id=key_id, actor=request.user
            )
        except ObjectDoesNotExist:
            raise Http404("No such API key") from None
        if request.htmx:  # type: ignore[attr-defined]
            return render(
                request,
                "organizations/_api_key_row.html",
                {"key": api_key, "organization": self.organization},
            )
        messages.success(request, _("The key “%(name)s” was revoked.") % {"name": api_key.name})
        return redirect("org-api-keys", org_slug=org_slug)


class InvitationAcceptView(View):
    """/invitations/<token>/: the e-mailed link. Not under /o/<slug>/: the visitor is not a
    member yet; the token itself names the organisation."""

    template_name = "organizations/invitation_accept.html"

    def _context(self, request: HttpRequest, token: str) -> dict[str, Any]:
        invitation = selectors.invitation_for_token(
            token_hash=services.invitation_token_hash(token)
        )
        if invitation is None or not invitation.is_open:
            return {"invalid": True}
        context: dict[str, Any] = {"invitation": invitation, "token": token}
        user = request.user
        if user.is_authenticated:
            context["email_matches"] = user.email.lower() == invitation.email  # type: ignore[union-attr]
        else:
            context["has_account"] = selectors.user_exists(email=invitation.email)
            context["login_url"] = f"{reverse('login')}?next={request.path}"
        return context

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        context = self._context(request, token)
        if not context.get("invalid") and not request.user.is_authenticated:
            context["form"] = NewAccountForm(email=context["invitation"].email)
        return render(
            request, self.template_name, context, status=404 if context.get("invalid") else 200
        )

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        context = self._context(request, token)
        if context.get("invalid"):
            return render(request, self.template_name, context, status=404)
        try:
            if request.user.is_authenticated:
                membership = services.invitation_accept(token=token, user=request.user)  # type: ignore[arg-type]
            else:
                form = NewAccountForm(request.POST, email=context["invitation"].email)
                context["form"] = form
                if not form.is_valid():
                    return render(request, self.template_name, context, status=400)
                try:
                    membership, user = services.invitation_accept_new_user(
                        token=token,
                        password=form.cleaned_data["password"],
                        full_name=form.cleaned_data["full_name"],
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                    return render(request, self.template_name, context, status=400)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        except ValidationError as exc:
            context["error"] = _error_text(exc)
            return render(request, self.template_name, context, status=400)
        messages.success(
            request, _("Welcome to %(name)s.") % {"name": membership.organization.name}
        )
        return redirect("org-home", org_slug=membership.organization.slug)
