"""Writes of the leads app, by area. Import from here: `from leads.services import lead_approve`."""

from .calendar import calendar_lock, calendar_slots_take, calendar_today
from .delivery import lead_deliver
from .digest import digest_due, digest_send
from .feeds import (
    calendar_feed_ics,
    calendar_feed_reset,
    calendar_feed_resolve,
    calendar_feed_revoke,
    calendar_feed_url,
)
from .lifecycle import (
    ApprovalResult,
    LeadStateError,
    lead_approve,
    lead_mark_contacted,
    lead_move,
    lead_notes_update,
    lead_reject,
    leads_approve,
    leads_reject,
    leads_withdraw,
)
from .reverify import lead_evidence_is_stale, leads_reverify, leads_reverify_scheduled
from .search import (
    DispatchResult,
    nightly_dispatch,
    search_run_execute,
    search_run_get_or_create,
    search_run_stats_refresh,
)

__all__ = [
    "ApprovalResult",
    "DispatchResult",
    "LeadStateError",
    "calendar_feed_ics",
    "calendar_feed_reset",
    "calendar_feed_resolve",
    "calendar_feed_revoke",
    "calendar_feed_url",
    "calendar_lock",
    "calendar_slots_take",
    "calendar_today",
    "digest_due",
    "digest_send",
    "lead_approve",
    "lead_deliver",
    "lead_evidence_is_stale",
    "lead_mark_contacted",
    "lead_move",
    "lead_notes_update",
    "lead_reject",
    "leads_approve",
    "leads_reject",
    "leads_reverify",
    "leads_reverify_scheduled",
    "leads_withdraw",
    "nightly_dispatch",
    "search_run_execute",
    "search_run_get_or_create",
    "search_run_stats_refresh",
]
