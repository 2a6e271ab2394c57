"""The morning digest is written in each recipient's profile language (issue 17): a Swedish member
reads Swedish, a Norwegian one Bokmål, one without a choice English, in the same run."""

from __future__ import annotations

import datetime as dt

from django.core import mail

from leads.services import digest_send


def test_each_member_reads_the_digest_in_their_language(night, tenant_a):
    night(tenant_a, size=3)
    tenant_a.owner.language = "sv"
    tenant_a.owner.save(update_fields=["language"])
    tenant_a.admin.language = "nb"
    tenant_a.admin.save(update_fields=["language"])
    assert digest_send(organization=tenant_a.org, on=dt.date(2026, 11, 26)) is not None
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert len(by_recipient) == 3
    swedish = by_recipient["owner@alpha.example"]
    assert "3 nya leads väntar på godkännande" in swedish.subject
    assert "morgonsammanfattningen" in swedish.body
    norwegian = by_recipient["admin@alpha.example"]
    assert "3 nye leads venter på godkjenning" in norwegian.subject
    english = by_recipient["member@alpha.example"]
    assert "3 new leads await approval" in english.subject
