"""Segments: an organisation's target audiences.

A segment's criteria are stored as canonical JSON produced by `SegmentCriteria.to_dict()`; the
services are the only writers and validate before saving. Lifecycle: draft -> active <-> paused ->
archived (see services). Only active segments are searched at night.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import DeliveryMode
from organizations.tenancy import TenantModel

from .criteria import SegmentCriteria

NIGHTLY_CAP_MAX = 1000


class SegmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ARCHIVED = "archived", _("Archived")


class Segment(TenantModel):
    name = models.CharField(max_length=120)
    status = models.CharField(
        max_length=10, choices=SegmentStatus.choices, default=SegmentStatus.DRAFT
    )
    criteria = models.JSONField(default=dict, blank=True)
    nightly_cap = models.PositiveIntegerField(
        default=25,
        validators=[MinValueValidator(1), MaxValueValidator(NIGHTLY_CAP_MAX)],
        help_text="At most this many charged leads per night from this segment.",
    )
    # NULL = the organisation's delivery mode.
    delivery_mode = models.CharField(
        max_length=16, choices=DeliveryMode.choices, null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Why contacting these decision-makers is in the organisation's legitimate interest (the
    # purpose, why the role is relevant): shown to every member, and the processing instruction
    # the data processing agreement refers to (docs/privacy.md).
    legitimate_interest = models.TextField(blank=True, default="")

    class Meta:
        base_manager_name = "all_orgs"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=~models.Q(status="archived"),
                name="segment_name_unique_live",
            ),
            models.CheckConstraint(
                condition=models.Q(nightly_cap__gte=1, nightly_cap__lte=NIGHTLY_CAP_MAX),
                name="segment_nightly_cap_range",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="segment_org_status")]

    def __str__(self) -> str:
        return self.name

    @property
    def parsed_criteria(self) -> SegmentCriteria:
        return SegmentCriteria.from_dict(self.criteria)

    @property
    def effective_delivery_mode(self) -> str:
        return self.delivery_mode or self.organization.delivery_mode
