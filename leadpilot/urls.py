from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from billing.webhooks import stripe_webhook
from organizations import views as org_views
from organizations import views_email as email_views
from organizations.api.problem_types import problem_type
from organizations.forms import EmailAuthenticationForm, RateLimitedPasswordResetForm
from organizations.language import language_set
from website import views as website_views

# Every app mounts its dashboard pages under /o/<org_slug>/ and its API under
# /api/v1/orgs/<org_slug>/; the tenancy test walks both trees.
org_patterns = [
    path("", include("organizations.urls")),
    path("", include("segments.urls", namespace="segments")),
    path("", include("blocklists.urls", namespace="blocklists")),
    path("", include("leads.urls", namespace="leads")),
    path("", include("billing.urls", namespace="billing")),
    path("", include("privacy.urls_org", namespace="privacy-org")),
    path("", include("webhooks.urls", namespace="webhooks")),
    path("", include("uploads.urls", namespace="uploads")),
]
api_org_patterns = [
    path("", include("organizations.api.urls")),
    path("", include("segments.api.urls", namespace="segments-api")),
    path("", include("blocklists.api.urls", namespace="blocklists-api")),
    path("", include("leads.api.urls", namespace="leads-api")),
    path("", include("billing.api.urls", namespace="billing-api")),
    path("", include("webhooks.api.urls", namespace="webhooks-api")),
    path("", include("uploads.api.urls", namespace="uploads-api")),
]

urlpatterns = [
    # Visitors see the landing page; a logged-in user goes to their dashboard (website/views.py).
    path("", website_views.landing, name="home"),
    path("healthz", org_views.healthz, name="healthz"),
    path("favicon.ico", org_views.favicon, name="favicon"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm),
        name="login",
    ),
    path("accounts/signup/", org_views.SignUpView.as_view(), name="signup"),
    path("accounts/signup/sent/", org_views.SignUpSentView.as_view(), name="signup-sent"),
    path(
        "accounts/signup/<str:token>/",
        org_views.SignUpConfirmView.as_view(),
        name="signup-confirm",
    ),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=RateLimitedPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/profile/", org_views.ProfileView.as_view(), name="profile"),
    path("accounts/confirm-email/", email_views.email_confirm_resend, name="email-confirm-resend"),
    path("accounts/confirm-email/<str:token>/", email_views.email_confirm, name="email-confirm"),
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "organizations/new/",
        org_views.OrganizationCreateView.as_view(),
        name="organization-create",
    ),
    path(
        "invitations/<str:token>/",
        org_views.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path("", include("leads.urls_public")),
    path("", include("privacy.urls", namespace="privacy")),
    path("", include("website.urls", namespace="website")),
    path("o/<slug:org_slug>/", include(org_patterns)),
    path("api/v1/orgs/<slug:org_slug>/", include(api_org_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Where a problem answer's `type` points (RFC 9457): a page per error code.
    path("api/problems/<str:code>", problem_type, name="api-problem-type"),
    # The split view serves Swagger UI's set-up script from this URL (?script) instead of inline:
    # the docs page runs under the same Content-Security-Policy as every page (script-src 'self').
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    # The language switch (dashboard and public pages): profile, session, cookie with consent.
    path("i18n/setlang/", language_set, name="set_language"),
    # Stripe's events: signed, not session-authenticated (billing/webhooks.py).
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
]
