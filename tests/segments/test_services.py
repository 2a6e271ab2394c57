"""Segment lifecycle and validation through the services."""

from __future__ import annotations

import pytest

from segments.models import Segment, SegmentStatus
from segments.services import (
    SegmentError,
    SegmentTransitionError,
    segment_activate,
    segment_archive,
    segment_create,
    segment_delete,
    segment_pause,
    segment_update,
)

pytestmark = pytest.mark.django_db


def test_lifecycle_draft_active_paused_archived(tenant_a, tenant_b):
    org = tenant_a.org
    seg = segment_create(organization=org, name="Nordic IT", criteria={"countries": ["NO"]})
    assert seg.status == SegmentStatus.DRAFT
    with pytest.raises(SegmentTransitionError):
        segment_pause(organization=org, segment_id=seg.pk)
    seg = segment_activate(organization=org, segment_id=seg.pk)
    assert seg.status == SegmentStatus.ACTIVE and seg.activated_at is not None
    assert segment_activate(organization=org, segment_id=seg.pk).status == "active"  # idempotent
    assert segment_pause(organization=org, segment_id=seg.pk).status == "paused"
    assert segment_activate(organization=org, segment_id=seg.pk).status == "active"
    seg = segment_archive(organization=org, segment_id=seg.pk)
    assert seg.status == "archived" and seg.archived_at is not None
    for action in (segment_activate, segment_pause):
        with pytest.raises(SegmentTransitionError, match="archived segment cannot"):
            action(organization=org, segment_id=seg.pk)
    with pytest.raises(SegmentError, match="cannot be changed"):
        segment_update(organization=org, segment_id=seg.pk, name="New name")
    # Another organisation cannot reach it.
    with pytest.raises(Segment.DoesNotExist):
        segment_activate(organization=tenant_b.org, segment_id=seg.pk)


def test_invalid_input_names_fields(tenant_a):
    with pytest.raises(SegmentError) as info:
        segment_create(
            organization=tenant_a.org,
            name=" ",
            nightly_cap=0,
            delivery_mode="fax",
            criteria={"countries": ["XX"]},
        )
    assert set(info.value.errors) == {"name", "nightly_cap", "delivery_mode", "criteria.countries"}


def test_names_are_unique_among_live_segments(tenant_a, tenant_b):
    seg = segment_create(organization=tenant_a.org, name="UK")
    with pytest.raises(SegmentError) as info:
        segment_create(organization=tenant_a.org, name="UK")
    assert "name" in info.value.errors
    segment_create(organization=tenant_b.org, name="UK")  # another organisation: fine
    segment_archive(organization=tenant_a.org, segment_id=seg.pk)
    segment_create(organization=tenant_a.org, name="UK")  # archived frees the name


def test_update_stores_canonical_criteria_and_keeps_what_is_not_given(tenant_a):
    seg = segment_create(
        organization=tenant_a.org, name="A", delivery_mode="calendar", nightly_cap=10
    )
    seg = segment_update(
        organization=tenant_a.org, segment_id=seg.pk, criteria={"countries": ["no"]}
    )
    assert seg.criteria["countries"] == ["NO"]
    assert (seg.delivery_mode, seg.nightly_cap) == ("calendar", 10)
    assert seg.effective_delivery_mode == "calendar"
    seg = segment_update(organization=tenant_a.org, segment_id=seg.pk, delivery_mode=None)
    assert seg.effective_delivery_mode == tenant_a.org.delivery_mode


def test_only_never_activated_drafts_can_be_deleted(tenant_a):
    draft = segment_create(organization=tenant_a.org, name="Draft")
    segment_delete(organization=tenant_a.org, segment_id=draft.pk)
    live = segment_create(organization=tenant_a.org, name="Live")
    segment_activate(organization=tenant_a.org, segment_id=live.pk)
    segment_pause(organization=tenant_a.org, segment_id=live.pk)
    with pytest.raises(SegmentTransitionError):
        segment_delete(organization=tenant_a.org, segment_id=live.pk)
