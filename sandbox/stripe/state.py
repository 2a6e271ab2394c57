"""The fake's memory: objects by id, meter events, idempotency cache, faults, clock, webhooks."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import json
import random
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

DAY = 86_400


class StripeError(Exception):
    """Answered as Stripe's error shape: {"error": {"type", "message", "code", "param"}}."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str = "",
        param: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": {"type": type, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param


def no_such(kind: str, obj_id: str, param: str = "id") -> StripeError:
    return StripeError(
        f"No such {kind}: '{obj_id}'", status=404, code="resource_missing", param=param
    )


@dataclasses.dataclass
class Faults:
    """Per-request fault injection; rates are probabilities in [0, 1].

    latency_ms: delay before every API request. rate_limit_rate: 429 with Retry-After, nothing
    recorded. error_rate: 500 before recording. lose_rate: the request is recorded (and its
    idempotent result stored), then the answer is lost: 500. timeout_rate: recorded, then the
    answer waits timeout_s (longer than the client's timeout). Only paths starting with one of
    `paths` are affected (all API paths when empty)."""

    latency_ms: float = 0.0
    rate_limit_rate: float = 0.0
    error_rate: float = 0.0
    lose_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_s: float = 5.0
    retry_after_s: int = 1
    paths: tuple[str, ...] = ()
    seed: int | None = None

    def applies(self, path: str) -> bool:
        return not self.paths or path.startswith(self.paths)


class StripeState:
    """Everything the fake knows. One lock: requests are short and the fake is a test peer."""

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        self.lock = threading.RLock()
        self._clock = clock or time.time
        self.offset = 0.0
        self.faults = Faults()
        self.rng = random.Random()
        self.webhook_url = ""
        self.webhook_secret = ""
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.objects: dict[str, dict[str, Any]] = {}
            self.meter_events: list[dict[str, Any]] = []
            self.identifiers: dict[str, dict[str, Any]] = {}  # identifier -> stored event
            self.duplicates = 0
            self.idempotency: dict[tuple[str, str], tuple[str, int, dict[str, Any]]] = {}
            self.requests: list[dict[str, Any]] = []
            self.webhooks_sent: list[dict[str, Any]] = []
            self._ids = itertools.count(1)

    # -- clock -------------------------------------------------------------------------------
    def now(self) -> int:
        return int(self._clock() + self.offset)

    # -- objects -----------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):016d}"

    def add(self, prefix: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("id", self.new_id(prefix))
        obj.setdefault("created", self.now())
        obj.setdefault("livemode", False)
        self.objects[obj["id"]] = obj
        return obj

    def get(self, kind: str, obj_id: str) -> dict[str, Any]:
        obj = self.objects.get(obj_id)
        if obj is None or obj.get("object") != kind:
            raise no_such(kind.replace("_", " "), obj_id)
        return obj

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o.get("object") == kind]

    # -- meter events ------------------------------------------------------------------------
    def meter_total(
        self,
        *,
        event_name: str,
        customer_key: str,
        value_key: str,
        customer: str,
        start: int,
        end: int,
        formula: str = "sum",
    ) -> float:
        total = 0.0
        for event in self.meter_events:
            if (
                event["event_name"] == event_name
                and not event["_cancelled"]
                and event["payload"].get(customer_key) == customer
                and start <= event["timestamp"] < end
            ):
                total += 1 if formula == "count" else float(event["payload"].get(value_key, 0))
        return total

    # -- webhooks ----------------------------------------------------------------------------
    def emit(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Record an event and post it, signed like Stripe, to the configured URL (in a thread)."""
        event = self.add(
            "evt",
            {
                "object": "event",
                "type": event_type,
                "api_version": "2026-10-28.endive",
                "data": {"object": json.loads(json.dumps(obj))},
                "pending_webhooks": 1 if self.webhook_url else 0,
                "request": {"id": None, "idempotency_key": None},
            },
        )
        if self.webhook_url:
            threading.Thread(target=self._post_webhook, args=(event,), daemon=True).start()
        return event

    def sign(self, body: bytes, *, timestamp: int | None = None, secret: str = "") -> str:
        t = self.now() if timestamp is None else timestamp
        mac = hmac.new(
            (secret or self.webhook_secret).encode(), f"{t}.".encode() + body, hashlib.sha256
        )
        return f"t={t},v1={mac.hexdigest()}"

    def _post_webhook(self, event: dict[str, Any]) -> None:
        body = json.dumps(event).encode()
        status: int | str = "unsent"
        for attempt in range(3):
            request = urllib.request.Request(  # noqa: S310 - a configured loopback URL
                self.webhook_url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "Stripe-Signature": self.sign(body)},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    status = response.status
                    break
            except OSError as exc:
                status = getattr(exc, "code", None) or str(exc)
                time.sleep(0.2 * (attempt + 1))
        with self.lock:
            self.webhooks_sent.append({"id": event["id"], "type": event["type"], "status": status})
