"""Writes of segments. Each service validates, owns its transaction and saves with update_fields.

Lifecycle (enforced only here): draft -> active <-> paused; any live state -> archived (final).
Criteria are validated by SegmentCriteria and stored in canonical form; archived segments are
read-only. Transitions lock the row, so two concurrent requests cannot both move it.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from organizations.models import DeliveryMode, Organization, User
from organizations.selectors import organization_email_confirmed

from .criteria import CriteriaError, SegmentCriteria
from .models import NIGHTLY_CAP_MAX, Segment, SegmentStatus

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    SegmentStatus.DRAFT: {SegmentStatus.ACTIVE, SegmentStatus.ARCHIVED},
    SegmentStatus.ACTIVE: {SegmentStatus.PAUSED, SegmentStatus.ARCHIVED},
    SegmentStatus.PAUSED: {SegmentStatus.ACTIVE, SegmentStatus.ARCHIVED},
    SegmentStatus.ARCHIVED: set(),
}


class SegmentError(ValueError):
    """A segment write was refused. `errors` maps field -> problems (like CriteriaError)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(
            "; ".join(f"{name}: {msg}" for name, msgs in errors.items() for msg in msgs)
        )


class SegmentTransitionError(SegmentError):
    pass


CONFIRM_NO_DECISION_MAKERS = "confirm_no_decision_makers"


class SegmentNeedsConfirmation(SegmentError):
    """Activation refused until the caller confirms: the segment can deliver nobody."""


class SegmentEmailUnconfirmed(SegmentTransitionError):
    """Activation refused: no owner of the organisation has confirmed their e-mail address by
    the mailed link yet (organizations.selectors.organization_email_confirmed)."""


def segment_decision_makers_exist(*, organization: Organization, criteria: SegmentCriteria) -> bool:
    """Whether the criteria can produce a decision-maker: True when no company matches (the preview
    says "0 companies"; nothing to warn about) or some matching company has a current role of a
    wanted kind whose person is not excluded. Data-driven (two EXISTS probes on the matching query):
    a country whose registry names no officers (Sweden's bulk file) has none until someone, e.g.
    the website discovery, records a role there."""
    from .matching import candidate_roles, matching_companies
    from .selectors import organization_today

    today = organization_today(organization=organization)
    if not matching_companies(organization=organization, criteria=criteria, today=today).exists():
        return True
    return candidate_roles(organization=organization, criteria=criteria, today=today).exists()


LEGITIMATE_INTEREST_MAX_LENGTH = 2000


def _validate(
    *,
    name: str | None,
    nightly_cap: Any,
    delivery_mode: Any,
    criteria: Any,
    legitimate_interest: str | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if legitimate_interest is not None:
        note = str(legitimate_interest).strip()
        if len(note) > LEGITIMATE_INTEREST_MAX_LENGTH:
            errors["legitimate_interest"] = [
                f"is longer than {LEGITIMATE_INTEREST_MAX_LENGTH} characters"
            ]
        clean["legitimate_interest"] = note
    if name is not None:
        name = " ".join(str(name).split())
        if not name:
            errors["name"] = ["is required"]
        elif len(name) > 120:
            errors["name"] = ["is longer than 120 characters"]
        clean["name"] = name
    if nightly_cap is not None:
        if isinstance(nightly_cap, bool) or not isinstance(nightly_cap, int):
            errors["nightly_cap"] = ["must be a whole number"]
        elif not 1 <= nightly_cap <= NIGHTLY_CAP_MAX:
            errors["nightly_cap"] = [f"must be between 1 and {NIGHTLY_CAP_MAX}"]
        clean["nightly_cap"] = nightly_cap
    if delivery_mode is not ...:
        if delivery_mode in ("", None):
            clean["delivery_mode"] = None
        elif delivery_mode not in DeliveryMode.values:
            errors["delivery_mode"] = [
                f"{delivery_mode!r} is not one of {', '.join(DeliveryMode.values)} (or empty)"
            ]
        else:
            clean["delivery_mode"] = delivery_mode
    if criteria is not None:
        try:
            clean["criteria"] = SegmentCriteria.from_dict(criteria).to_dict()
        except CriteriaError as exc:
            errors.update({f"criteria.{k}": v for k, v in exc.errors.items()})
    return clean, errors


def _save(segment: Segment, fields: list[str]) -> None:
    try:
        with transaction.atomic():
            segment.save(update_fields=fields) if segment.pk else segment.save()
    except IntegrityError as exc:
        if "segment_name_unique_live" in str(exc):
            raise SegmentError({"name": ["another live segment already has this name"]}) from None
        raise


def segment_create(
    *,
    organization: Organization,
    name: str,
    criteria: Any = None,
    nightly_cap: int = 25,
    delivery_mode: str | None = None,
    created_by: User | None = None,
    legitimate_interest: str = "",
) -> Segment:
    """Create a draft segment. Raises SegmentError naming each invalid field. Not idempotent."""
    clean, errors = _validate(
        name=name,
        nightly_cap=nightly_cap,
        delivery_mode=delivery_mode,
        criteria={} if criteria is None else criteria,
        legitimate_interest=legitimate_interest,
    )
    if errors:
        raise SegmentError(errors)
    segment = Segment(organization=organization, created_by=created_by, **clean)
    _save(segment, [])
    return segment


def segment_update(
    *,
    organization: Organization,
    segment_id: int,
    name: str | None = None,
    criteria: Any = None,
    nightly_cap: int | None = None,
    delivery_mode: Any = ...,
    legitimate_interest: str | None = None,
) -> Segment:
    """Change name, criteria, nightly cap, delivery mode (`...` = leave as is, None = the
    organisation's) or the legitimate-interest note (None = leave as is). Archived segments are
    read-only. Idempotent."""
    clean, errors = _validate(
        name=name,
        nightly_cap=nightly_cap,
        delivery_mode=delivery_mode,
        criteria=criteria,
        legitimate_interest=legitimate_interest,
    )
    with transaction.atomic():
        segment = Segment.objects.for_org(organization).select_for_update().get(pk=segment_id)
        if segment.status == SegmentStatus.ARCHIVED:
            errors.setdefault("status", []).append("an archived segment cannot be changed")
        if errors:
            raise SegmentError(errors)
        for key, value in clean.items():
            setattr(segment, key, value)
        _save(segment, [*clean.keys(), "updated_at"])
    return segment


def _transition(
    *, organization: Organization, segment_id: int, to: str, confirmed: bool = True
) -> Segment:
    with transaction.atomic():
        segment = Segment.objects.for_org(organization).select_for_update().get(pk=segment_id)
        if segment.status == to:
            return segment  # idempotent
        if to not in ALLOWED_TRANSITIONS[segment.status]:
            raise SegmentTransitionError(
                {"status": [f"a {segment.status} segment cannot become {to}"]}
            )
        fields = ["status", "updated_at"]
        if to == SegmentStatus.ACTIVE:
            if not organization_email_confirmed(organization=organization):
                raise SegmentEmailUnconfirmed(
                    {
                        "email_confirmed": [
                            "an owner of the organisation must confirm their e-mail address "
                            "(the link we e-mailed them) before a segment can be activated"
                        ]
                    }
                )
            # Stored criteria may predate a schema change: refuse to search with invalid ones.
            try:
                criteria = SegmentCriteria.from_dict(segment.criteria)
            except CriteriaError as exc:
                raise SegmentError({f"criteria.{k}": v for k, v in exc.errors.items()}) from None
            if not confirmed and not segment_decision_makers_exist(
                organization=organization, criteria=criteria
            ):
                raise SegmentNeedsConfirmation(
                    {
                        CONFIRM_NO_DECISION_MAKERS: [
                            "no company matching these criteria has a wanted decision-maker "
                            "(the registry names none there), so the nightly search would "
                            "deliver nothing; confirm to activate it anyway"
                        ]
                    }
                )
            if segment.activated_at is None:
                segment.activated_at = timezone.now()
                fields.append("activated_at")
        if to == SegmentStatus.ARCHIVED:
            segment.archived_at = timezone.now()
            fields.append("archived_at")
        segment.status = to
        segment.save(update_fields=fields)
    return segment


def segment_activate(
    *, organization: Organization, segment_id: int, confirm_no_decision_makers: bool = False
) -> Segment:
    """draft/paused -> active: the nightly search picks it up. Idempotent.

    A segment whose matching companies have no wanted decision-maker (segment_decision_makers_exist)
    is activated only with `confirm_no_decision_makers`; otherwise SegmentNeedsConfirmation (field
    `confirm_no_decision_makers`) and nothing changes."""
    return _transition(
        organization=organization,
        segment_id=segment_id,
        to=SegmentStatus.ACTIVE,
        confirmed=confirm_no_decision_makers,
    )


def segment_pause(*, organization: Organization, segment_id: int) -> Segment:
    """active -> paused: no nightly search until activated again. Idempotent."""
    return _transition(organization=organization, segment_id=segment_id, to=SegmentStatus.PAUSED)


def segment_archive(*, organization: Organization, segment_id: int) -> Segment:
    """Any live state -> archived: final and read-only; its name is free again. Idempotent."""
    return _transition(organization=organization, segment_id=segment_id, to=SegmentStatus.ARCHIVED)


def segment_delete(*, organization: Organization, segment_id: int) -> None:
    """Delete a draft that was never activated; anything else must be archived instead."""
    with transaction.atomic():
        segment = Segment.objects.for_org(organization).select_for_update().get(pk=segment_id)
        if segment.status != SegmentStatus.DRAFT or segment.activated_at is not None:
            raise SegmentTransitionError(
                {"status": ["only a never-activated draft can be deleted; archive it instead"]}
            )
        segment.delete()
