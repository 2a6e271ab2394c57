"""A stateful fake Stripe on loopback (docs/stripe-fake.md).

Speaks the form-encoded v1 API the real `stripe` library sends and answers JSON it parses: the
resources the billing code uses, meter events with Stripe's rules (identifier dedup for 24 h,
timestamps 35 days back / 5 minutes ahead, cancel within 24 h of receipt), Idempotency-Key
replay, signed webhooks, fault injection and an injectable clock. State lives in memory.
"""

from .server import FakeStripe
from .state import Faults, StripeState

__all__ = ["FakeStripe", "Faults", "StripeState"]
