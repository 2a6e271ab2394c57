"""Contact verification engine (DESIGN.md section 5, CONTRACTS.md B).

Email: syntax -> disposable/role/free lists -> DNS (null MX, implicit MX) -> provider rules ->
SMTP probe (catch-all probe once per domain with a TTL, per-MX concurrency cap, enhanced-status
classification, greylist re-check queue on an injectable clock). Phone: phonenumbers.
Escape hatch: `VerificationConfig.nameserver` lets MX hosts resolve to loopback (sandbox only).
Per-process caches (DNS, routes, catch-all, verdicts, MX back-offs, written rows, pages) are
forgotten together by `verification_caches_clear()`.
"""

from enrichment.verification.clock import FakeClock, SystemClock
from enrichment.verification.config import Timeouts, VerificationConfig, parse_hostport
from enrichment.verification.engine import Verifier, verify_emails
from enrichment.verification.phone import phone_verify
from enrichment.verification.state import CatchAllCache, verification_caches_clear
from enrichment.verification.verdicts import EmailVerdict, PhoneVerdict

__all__ = [
    "CatchAllCache",
    "EmailVerdict",
    "FakeClock",
    "PhoneVerdict",
    "SystemClock",
    "Timeouts",
    "VerificationConfig",
    "Verifier",
    "parse_hostport",
    "phone_verify",
    "verification_caches_clear",
    "verify_emails",
]
