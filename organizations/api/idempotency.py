"""Idempotent writes: the `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key).

Contract. A POST, PATCH or DELETE under /api/v1/orgs/<slug>/ that sends `Idempotency-Key: <key>`
runs at most once per organisation and key within 24 hours:

- the first request runs, and its answer (status, body, content type) is stored with the key;
- a later request with the same key and the same method, path and body gets that answer again,
  with `Idempotent-Replayed: true`, and nothing is written again;
- the same key with another method, path or body is a 422 problem (`idempotency_key_reused`);
- two requests with one key at the same time: the second waits for the first and then gets its
  answer; they never both write.

How. `OrgAPIView` runs the whole request in one transaction (`atomic_request`) and, once the
organisation and the key's scope are checked, inserts the key's row (unique per organisation and
key) before the view runs; the answer is written to that row in the same transaction. A concurrent
request with the same key blocks on the unique index until the first commits, then reads its
answer. A crash or a 5xx rolls the write and the key's row back together, so a retry with the same
key runs again: charged once or not at all. Only answers of a request that ran are kept: 2xx and
409; other 4xx (invalid input, not found) are not, so the client can fix and retry with the key.

Escape hatch: none. Rows older than 24 hours are ignored and deleted by the periodic task
`organizations.purge_idempotency_keys`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.request import Request

from ..models import IdempotencyKey, Organization

HEADER = "HTTP_IDEMPOTENCY_KEY"
METHODS = ("POST", "PATCH", "DELETE", "PUT")
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# The answers of a request that ran; other 4xx are not stored (see the module's docstring).
STORED = (status.HTTP_409_CONFLICT,)


class InvalidIdempotencyKey(exceptions.ParseError):
    default_code = "invalid_idempotency_key"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


class Replay(Exception):
    def __init__(self, response: HttpResponse) -> None:
        super().__init__("idempotent replay")
        self.response = response


@dataclass
class Claim:
    """The key's row, taken by this request."""

    row: IdempotencyKey


def requested_key(request: Request) -> str | None:
    """The request's key, None when it sends none or the method is not a write."""
    if request.method not in METHODS or HEADER not in request.META:
        return None
    key = request.META[HEADER].strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKey(
            _("Idempotency-Key must be 1 to %(max)d printable ASCII characters.")
            % {"max": MAX_KEY_LENGTH}
        )
    return key


def fingerprint(request: Request) -> str:
    """SHA-256 of the method, path and body. A JSON body is compared by its value (key order and
    spacing do not matter); a multipart body by its fields and its files' names and contents."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    content_type = request.content_type or ""
    if content_type.startswith("multipart/"):
        fields = sorted((k, v) for k in request.data for v in request.data.getlist(k))
        digest.update(json.dumps(fields, default=str).encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"\n{name}:{upload.name}:{upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
        return digest.hexdigest()
    body = request.body
    if content_type.startswith("application/json") and body:
        # A malformed body is hashed as sent: the view answers it with a 400, which is not stored.
        with contextlib.suppress(ValueError):
            body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    digest.update(body)
    return digest.hexdigest()


def claim(*, organization: Organization, request: Request, key: str) -> Claim:
    """Take the key for this request, or raise Replay with the first answer, or 422.

    Must run inside the request's transaction (OrgAPIView.atomic_request): the row becomes
    visible to other requests only with the answer written to it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("idempotency.claim() must run inside the request's transaction")
    print_ = fingerprint(request)
    scoped = IdempotencyKey.objects.for_org(organization)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                row = scoped.create(
                    organization=organization,
                    key=key,
                    fingerprint=print_,
                    method=request.method or "",
                    path=request.path[:500],
                )
            return Claim(row=row)
        except IntegrityError:
            pass
        existing = scoped.filter(key=key).first()
        if existing is None:
            continue  # rolled back or purged meanwhile: take it
        if existing.created_at < timezone.now() - TTL:
            scoped.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.fingerprint != print_:
            raise IdempotencyKeyReused(
                _(
                    "This Idempotency-Key was used in the last 24 hours for %(method)s %(path)s "
                    "with another body; send a new key for a new request."
                )
                % {"method": existing.method, "path": existing.path}
            )
        raise Replay(_stored_response(existing))
    raise exceptions.APIException(_("The Idempotency-Key could not be taken; retry."))


def record(current: Claim, response: Any) -> None:
    """Store the answer with the key (a stored status), or give the key back (any other)."""
    row = current.row
    code = response.status_code
    if code >= 500:
        transaction.set_rollback(True)  # the write and the key go together
        return
    if code >= 400 and code not in STORED:
        IdempotencyKey.objects.for_org(row.organization).filter(pk=row.pk).delete()
        return
    response.render()
    row.status_code = code
    row.content_type = response.get("Content-Type", "")[:100]
    row.body = response.content.decode("utf-8")
    row.save(update_fields=["status_code", "content_type", "body"])


def _stored_response(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(row.body, status=row.status_code, content_type=row.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def purge_expired(*, now: Any = None) -> int:
    """Delete the keys older than 24 hours; returns how many."""
    cutoff = (now or timezone.now()) - TTL
    # Unscoped by necessity: one periodic sweep over every organisation's expired keys.
    deleted, _detail = IdempotencyKey.all_orgs.filter(created_at__lt=cutoff).delete()
    return deleted
