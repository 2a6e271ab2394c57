"""`verification_caches_clear()` forgets every per-process cache of the engine.

The caches key on nameserver and ports; a sandbox world that gets a port an earlier world used
must not be answered from the earlier world's DNS, verdicts or pages. Copies of the clearing code
in the test fixtures and the verification bench once forgot the written-row and page caches.
"""

import asyncio
import functools
import importlib
import pkgutil
import time

import enrichment.verification
from enrichment.verification import Verifier, state, verification_caches_clear
from enrichment.verification import dns as vdns
from enrichment.verification.discovery import PROCESS_PAGE_CACHE, Discovery
from enrichment.verification.dns import DnsClient
from enrichment.verification.smtp_limits import PROCESS_SENDING_LIMITS
from enrichment.verification.state import verification_caches_sizes
from sandbox.servers.worlds import domain_entry

EVERY_CACHE = {
    "dns_answers",
    "mail_routes",
    "catch_all",
    "verdicts",
    "mx_states",
    "written_rows",
    "pages",
    "sending_limits",
}


def _caches_fill(sb, config) -> None:
    """Fill each cache the way the nightly search does: verify an address (DNS answers, mail
    route, catch-all state, verdict, MX states), fetch a home page; the written-row cache is
    filled by the contact search after its commit, here directly."""

    async def go():
        verdicts = await Verifier(config).verify_many(["kari.nordmann@nordlys.no"])
        client = DnsClient(config)
        page = await Discovery(config, client).website_fetch("nordlys.no")
        client.close()
        return verdicts, page

    (verdict,), page = asyncio.run(go())
    assert verdict.status == "valid"
    assert page is not None
    state.PROCESS_WRITTEN_ROWS.update(
        {("default", "domain_profile", "nordlys.no"): ("fingerprint", 1, time.monotonic())}
    )


def test_verification_caches_clear_empties_every_process_cache(sandbox_factory, config_for):
    sb = sandbox_factory(
        [
            domain_entry(
                "nordlys.no",
                mailboxes=["kari.nordmann"],
                web={"company_name": "Nordlys AS", "country": "NO", "registry_id": "912345678"},
            )
        ]
    )
    _caches_fill(sb, config_for(sb))
    filled = verification_caches_sizes()
    assert set(filled) == EVERY_CACHE
    assert all(filled.values()), filled

    verification_caches_clear()

    assert verification_caches_sizes() == dict.fromkeys(EVERY_CACHE, 0)


def _verification_modules():
    for info in pkgutil.iter_modules(enrichment.verification.__path__):
        yield importlib.import_module(f"enrichment.verification.{info.name}")


def test_every_process_cache_of_the_engine_is_one_verification_caches_clear_knows():
    """A cache added to the engine later must be forgotten with the others (or, if it depends on
    its arguments alone, be named here as pure)."""
    cleared = {
        id(state.PROCESS_CATCH_ALL_CACHE),
        id(state.PROCESS_VERDICT_CACHE),
        id(state.PROCESS_MX_STATES),
        id(state.PROCESS_WRITTEN_ROWS),
        id(PROCESS_PAGE_CACHE),
        id(PROCESS_SENDING_LIMITS),
        id(vdns._caches),
        id(vdns._routes),
    }
    pure_memo = {"address_parse", "name_parts", "_disposable_set"}
    unknown_state, unknown_memo = [], []
    for module in _verification_modules():
        for name, value in vars(module).items():
            if name.startswith("__") or (name.isupper() and not name.startswith("PROCESS_")):
                continue  # module attributes, constants (tables, limits)
            if getattr(value, "__module__", module.__name__) != module.__name__:
                continue  # imported from elsewhere
            if isinstance(value, functools._lru_cache_wrapper):
                if name not in pure_memo:
                    unknown_memo.append(f"{module.__name__}.{name}")
                continue
            stateful = isinstance(value, dict | list | set) or (
                not isinstance(value, type) and hasattr(value, "clear")
            )
            if stateful and id(value) not in cleared:
                unknown_state.append(f"{module.__name__}.{name}")
    assert unknown_state == []
    assert unknown_memo == []
