"""`manage.py sandbox --world DIR` and `manage.py verify_contact` as an operator runs them."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import dns.resolver
import pytest
from django.core.management import CommandError, call_command

from sandbox.servers import Sandbox
from sandbox.servers.manifest import domains_write
from sandbox.servers.worlds import domain_entry

ROOT = Path(__file__).resolve().parents[2]


def test_sandbox_command_serves_the_world_and_prints_its_ports(tmp_path):
    domains_write(tmp_path, [domain_entry("nordlys-logistikk.no", mailboxes=["kari.nordmann"])])
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--world", str(tmp_path), "--for-seconds", "30"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first = proc.stdout.readline()
        ports = dict(kv.split("=") for kv in first.split())
        assert ports["domains"] == "1"
        r = dns.resolver.Resolver(configure=False)
        r.nameservers, r.port, r.lifetime = ["127.0.0.1"], int(ports["dns_port"]), 2
        (mx,) = r.resolve("nordlys-logistikk.no", "MX")[:1]
        assert mx.exchange.to_text() == "mx1.nordlys-logistikk.no."
        assert proc.stdout.readline().strip() == (
            f"LEADPILOT_DNS_NAMESERVER=127.0.0.1:{ports['dns_port']}"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_sandbox_command_names_the_bad_line(tmp_path):
    path = tmp_path / "internet" / "domains.jsonl"
    path.parent.mkdir()
    path.write_text('{"domain": "a.no", "dns": "sometimes"}\n')
    with pytest.raises(CommandError, match=r"domains.jsonl:1.*'dns'"):
        call_command("sandbox", "--world", str(tmp_path))


def run(*args) -> dict:
    out = StringIO()
    call_command("verify_contact", *args, stdout=out)
    return json.loads(out.getvalue())


def test_verify_contact_prints_one_json_verdict():
    world = [
        domain_entry("nordlys-logistikk.no", mailboxes=["kari.nordmann"]),
        domain_entry("allin.no", behaviour="catch_all"),
    ]
    with Sandbox(world) as sb:
        ns = ["--nameserver", f"127.0.0.1:{sb.dns_port}", "--smtp-port", str(sb.smtp_port)]
        ok = run(
            "--email",
            "kari.nordmann@nordlys-logistikk.no",
            *ns,
            "--phone",
            "22 33 44 55",
            "--country",
            "NO",
        )
        assert (ok["status"], ok["reason"], ok["flags"]) == ("valid", None, [])
        assert ok["evidence"]["mx"][0][1] == "mx1.nordlys-logistikk.no"
        assert ok["phone"]["e164"] == "+4722334455"
        catch_all = run("--email", "nobody@allin.no", *ns)
        assert (catch_all["status"], catch_all["reason"]) == ("accept_all", "catch_all")
        gone = run("--email", "nobody@nordlys-logistikk.no", *ns)
        assert (gone["status"], gone["reason"]) == ("invalid", "mailbox_not_found")


def test_verify_contact_phone_only_and_bad_arguments():
    phone = run("--phone", "412 34 567", "--country", "NO")
    assert (phone["status"], phone["line_type"], phone["flags"]) == ("valid", "mobile", [])
    with pytest.raises(CommandError, match="--email"):
        call_command("verify_contact")
    with pytest.raises(CommandError, match="--nameserver"):
        call_command("verify_contact", "--email", "a@b.no", "--nameserver", "nope:port")
