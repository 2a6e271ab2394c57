"""The directory: companies and decision-makers from registry bulk files, and what we learned about
their contact data. Global, not tenant-owned: nothing here knows organisations, and a customer's
uploaded rows are never pooled into it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.Model):
    """A registry file family we import (Companies House BasicCompanyData, Brreg enheter, …)."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True)
    licence = models.CharField(max_length=200, blank=True)
    attribution = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.name


class CompanyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    LIQUIDATION = "liquidation", _("In liquidation")
    BANKRUPT = "bankrupt", _("Bankrupt")
    DISSOLVED = "dissolved", _("Dissolved")


class LegalForm(models.TextChoices):
    LIMITED = "limited", _("Private limited company")
    PUBLIC_LIMITED = "public_limited", _("Public limited company")
    LLP = "llp", _("Limited liability partnership")
    PARTNERSHIP = "partnership", _("Partnership")
    SOLE_TRADER = "sole_trader", _("Sole trader")
    BRANCH = "branch", _("Branch of a foreign company")
    COOPERATIVE = "cooperative", _("Co-operative")
    FOUNDATION = "foundation", _("Foundation")
    ASSOCIATION = "association", _("Association")
    OTHER = "other", _("Other")


class SizeBand(models.TextChoices):
    MICRO = "micro", _("Micro (<10)")
    SMALL = "small", _("Small (10-49)")
    MEDIUM = "medium", _("Medium (50-249)")
    LARGE = "large", _("Large (250+)")
    DORMANT = "dormant", _("Dormant")


class Company(models.Model):
    country = models.CharField(max_length=2)  # ISO 3166-1 alpha-2
    registry_id = models.CharField(
        max_length=32
    )  # kept exactly, zero padding and prefixes included
    name = models.CharField(max_length=300)
    legal_form = models.CharField(max_length=20, choices=LegalForm.choices, default=LegalForm.OTHER)
    legal_form_raw = models.CharField(max_length=120, blank=True)
    status = models.CharField(
        max_length=16, choices=CompanyStatus.choices, default=CompanyStatus.ACTIVE
    )
    incorporated_on = models.DateField(null=True, blank=True)
    # NACE Rev. 2 class as an integer (62.01 -> 6201); NULL when unknown or "no activity".
    nace_primary = models.IntegerField(null=True, blank=True)
    nace_raw = models.CharField(max_length=200, blank=True)  # national codes as given, ";"-joined
    # Unknown is NULL, never 0.
    employees_min = models.PositiveIntegerField(null=True, blank=True)
    employees_max = models.PositiveIntegerField(null=True, blank=True)
    employees_source = models.CharField(max_length=32, blank=True)
    size_band = models.CharField(max_length=10, choices=SizeBand.choices, blank=True)
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    postcode_prefix = models.CharField(max_length=8, blank=True)  # UK outward code, NO/SE first 2
    municipality = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    website_domain = models.CharField(max_length=253, blank=True)
    email_domain = models.CharField(max_length=253, blank=True)
    phone = models.CharField(max_length=40, blank=True)  # raw, as the registry gives it
    lei = models.CharField(max_length=20, blank=True)
    marketing_blocked = models.BooleanField(default=False)  # registry advertising opt-out
    # No index: nothing looks companies up by source (a Source is never deleted in practice,
    # and PROTECT's check may scan), and a bulk import would rebuild it for nothing.
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    payload_hash = models.CharField(max_length=64, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(
                fields=["country", "registry_id"], name="company_registry_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["nace_primary"], name="company_nace_primary"),
            models.Index(fields=["incorporated_on"], name="company_incorporated_on"),
            # The matching query walks companies in id order; ids are grouped by registry (a
            # whole country's import at a time), so a country's companies start at this index
            # instead of after every other country's (0.26 s -> 0.16 s per nightly page query).
            models.Index(fields=["country", "id"], name="company_country_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country} {self.registry_id})"


class CompanyIndustry(models.Model):
    """Every industry code of a company, normalised to its NACE Rev. 2 class."""

    # Indexed through company_industry_unique (company_id leads it); a separate index on
    # company_id would only cost every import a sort.
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="industries", db_index=False
    )
    nace_class = models.IntegerField()  # 6201
    code_system = models.CharField(max_length=16)  # uk_sic2007, sn2007, sni2007, db07, tol2008
    raw_code = models.CharField(max_length=20)  # "62012", "43.210"
    is_primary = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "company industries"
        constraints = [
            models.UniqueConstraint(fields=["company", "raw_code"], name="company_industry_unique"),
        ]
        indexes = [models.Index(fields=["nace_class", "company"], name="industry_class_company")]

    def __str__(self) -> str:
        return f"{self.raw_code} -> {self.nace_class}"


class Person(models.Model):
    # A key derived by the importer from what the source gives (never a personal identity number).
    person_key = models.CharField(max_length=128, unique=True)
    full_name = models.CharField(max_length=200)
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)  # minimised: year only
    country = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.full_name


class RoleKind(models.TextChoices):
    CEO = "ceo", _("CEO / managing director")
    CHAIR = "chair", _("Chair of the board")
    BOARD_MEMBER = "board_member", _("Board member")
    DIRECTOR = "director", _("Director")
    OWNER = "owner", _("Owner (significant control)")
    AUDITOR = "auditor", _("Auditor")
    OTHER = "other", _("Other")


class Role(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="roles")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roles")
    kind = models.CharField(max_length=16, choices=RoleKind.choices)
    kind_raw = models.CharField(max_length=100, blank=True)
    # PSC: natures of control etc.; free-form facts from the source.
    details = models.JSONField(default=dict, blank=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    is_current = models.BooleanField(default=True)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, null=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "person", "kind"], name="role_unique"),
        ]
        indexes = [
            models.Index(
                fields=["company", "kind"],
                condition=models.Q(is_current=True),
                name="role_current_company_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of company {self.company_id}"


class ContactKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")


class ContactOrigin(models.TextChoices):
    REGISTRY = "registry", _("Registry")
    WEBSITE = "website", _("Company website")
    PATTERN = "pattern", _("Learned domain pattern")
    CANDIDATE = "candidate", _("Name-derived candidate")


class ContactAttribution(models.TextChoices):
    """Whose contact a source says it is. Only a person's own contact is ever charged."""

    PERSON = "person", _("The person")
    COMPANY = "company", _("The company")


class VerificationStatus(models.TextChoices):
    UNVERIFIED = "unverified", _("Not verified yet")
    VALID = "valid", _("Valid")
    INVALID = "invalid", _("Invalid")
    ACCEPT_ALL = "accept_all", _("Accept-all domain")
    UNKNOWN = "unknown", _("Unknown")


class ContactPoint(models.Model):
    """An e-mail address or phone number of a person or a company, with its verification."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="contact_points"
    )
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="contact_points"
    )
    kind = models.CharField(max_length=8, choices=ContactKind.choices)
    value = models.CharField(max_length=320)  # as found
    normalized = models.CharField(max_length=320)  # lower-cased e-mail / E.164 phone
    origin = models.CharField(max_length=16, choices=ContactOrigin.choices)
    status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.UNVERIFIED
    )
    reason = models.CharField(max_length=32, blank=True)
    flags = models.JSONField(default=list, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    line_type = models.CharField(max_length=32, blank=True)  # phones
    # Whose contact the source says it is (DESIGN.md section 5) and which source: the page URL
    # that lists the number next to the person, or the registry file. A person's e-mail address
    # is theirs unless it is a role account; a phone is the person's only when a source says so.
    # db_default: raw INSERTs (bench/match.py) keep working.
    attribution = models.CharField(
        max_length=8,
        choices=ContactAttribution.choices,
        default=ContactAttribution.COMPANY,
        db_default=ContactAttribution.COMPANY,
    )
    attribution_source = models.CharField(max_length=500, blank=True, default="", db_default="")
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind", "normalized"],
                condition=models.Q(person__isnull=False),
                name="contact_point_person_unique",
            ),
            models.UniqueConstraint(
                fields=["company", "kind", "normalized"],
                condition=models.Q(person__isnull=True),
                name="contact_point_company_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) | models.Q(company__isnull=False),
                name="contact_point_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.normalized} ({self.status})"


class DomainProfile(models.Model):
    domain = models.CharField(max_length=253, unique=True)
    mx_hosts = models.JSONField(default=list, blank=True)  # [[preference, host], ...]
    null_mx = models.BooleanField(default=False)
    dns_status = models.CharField(max_length=16, blank=True)  # ok, nxdomain, servfail, ...
    accepts_all = models.BooleanField(null=True, blank=True)  # catch-all; NULL = undetermined
    provider = models.CharField(max_length=32, blank=True)
    email_pattern = models.CharField(max_length=32, blank=True)
    # Which company's website names this domain's registry number (domain discovery evidence).
    confirmed_company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    catch_all_checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.domain


class ImportStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="import_runs")
    file_name = models.CharField(max_length=500)
    file_hash = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_new = models.PositiveIntegerField(default=0)
    rows_changed = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class ImportRejection(models.Model):
    """A row the importer could not take, with where it was and why."""

    import_run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejections")
    line_number = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    raw = models.TextField(blank=True)  # an excerpt, personal identity numbers removed

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.reason}"


class ChangeKind(models.TextChoices):
    NEW_COMPANY = "new_company", _("New company")
    STATUS = "status", _("Status changed")
    ADDRESS = "address", _("Address changed")
    INDUSTRY = "industry", _("Industry changed")
    NAME = "name", _("Name changed")
    ROLE_ADDED = "role_added", _("New role")
    ROLE_ENDED = "role_ended", _("Role ended")


class ChangeEvent(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="change_events")
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=ChangeKind.choices)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    import_run = models.ForeignKey(
        ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="change_events"
    )
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "occurred_at"], name="change_kind_time")]

    def __str__(self) -> str:
        return f"{self.kind} on company {self.company_id}"
