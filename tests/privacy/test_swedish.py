"""The public privacy pages in Swedish (issue 19): the browser's Accept-Language picks Swedish
when it prefers it, the language switch overrides it, English stays the default. The opt-out
page, its answer, its errors and the confirmation e-mail read in Swedish, and the answer is still
the same whether or not the directory knows the address. The committed catalogue is compiled."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from enrichment.models import ContactPoint
from tests.factories import PersonFactory

URL = "/privacy/opt-out/"
SWEDISH = "sv-SE,sv;q=0.9,en;q=0.5"
PO = Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES" / "django.po"


def swedish_client(**extra: str) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=SWEDISH, **extra)


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """post(client, **form) -> response, with the mail the service sends after commit."""

    def send(client: Client, **data: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, {"kind": "email", "email": "", **data})

    return send


def _without_csrf_tokens(html: str) -> str:
    """A page without its CSRF tokens (masked anew on every response)."""
    return re.sub(r"\b[A-Za-z0-9]{64}\b", "", html)


def _link(mail) -> str:
    (token,) = re.findall(r"/privacy/opt-out/confirm/([^/\s]+)/", mail.body)
    return reverse("privacy:optout-confirm", args=[token])


@pytest.mark.django_db
def test_a_swedish_browser_reads_the_page_the_answer_the_mail_and_the_link_in_swedish(
    mailoutbox, post
):
    client = swedish_client()
    page = client.get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert page["Content-Language"] == "sv"
    assert '<html lang="sv">' in html
    assert "Be oss sluta använda dina kontaktuppgifter" in html
    assert "Vad ska vi sluta använda?" in html
    assert "Skicka bekräftelselänken" in html
    assert "Stop us using your contact details" not in html

    answer = post(client, value="anna@alpha.example")
    assert answer.status_code == 302
    sent = client.get(answer["Location"]).content.decode()
    assert "Titta i din inkorg" in sent
    days = settings.LEADPILOT_OPTOUT_LINK_DAYS
    assert f"Öppna den inom {days} dagar för att bekräfta din invändning." in sent

    (mail,) = mailoutbox
    assert mail.to == ["anna@alpha.example"]
    assert mail.subject == "Bekräfta din invändning hos LeadPilot"
    assert "Någon, förhoppningsvis du, har bett LeadPilot" in mail.body
    assert f"Länken gäller i {days} dagar." in mail.body
    assert "ingenting ändras" in mail.body
    assert "Someone" not in mail.body

    button = client.get(_link(mail)).content.decode()
    assert "Bekräfta: använd aldrig mina kontaktuppgifter" in button
    done = client.post(_link(mail))
    assert done.status_code == 200
    assert "Dina kontaktuppgifter står nu på vår spärrlista." in done.content.decode()

    wrong = client.get(reverse("privacy:optout-confirm", args=["not-a-token"]))
    assert wrong.status_code == 200  # a button; only its POST finds out
    invalid = client.post(reverse("privacy:optout-confirm", args=["not-a-token"]))
    assert invalid.status_code == 404
    assert "Länken är inte giltig" in invalid.content.decode()


@pytest.mark.django_db
def test_in_swedish_too_the_answer_is_the_same_whether_or_not_the_address_is_known(
    mailoutbox, post
):
    ContactPoint.objects.create(
        person=PersonFactory(),
        kind="email",
        value="Known@Alpha.example",
        normalized="known@alpha.example",
        origin="pattern",
        status="valid",
    )
    client = swedish_client()
    known = post(client, value="known@alpha.example")
    unknown = post(client, value="nobody@alpha.example")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    first_page, second_page = (
        _without_csrf_tokens(client.get(r["Location"]).content.decode()) for r in (known, unknown)
    )
    assert first_page == second_page
    assert "Titta i din inkorg" in first_page
    first, second = (re.sub(r"confirm/\S+", "", m.body) for m in mailoutbox)
    assert first == second
    assert mailoutbox[0].subject == mailoutbox[1].subject == "Bekräfta din invändning hos LeadPilot"


@pytest.mark.django_db
def test_the_errors_read_in_swedish(settings, mailoutbox, post):
    settings.LEADPILOT_OPTOUT_ATTEMPTS_PER_HOUR = 3
    client = swedish_client(REMOTE_ADDR="203.0.113.9")
    bad = post(client, value="inte en adress")
    assert bad.status_code == 200
    assert "Ange en giltig e-postadress." in bad.content.decode()
    phone = post(client, kind="phone", value="+46 70 123 45 67")
    assert phone.status_code == 200
    assert "Ange den e-postadress som vi ska skicka bekräftelselänken till." in (
        phone.content.decode()
    )
    empty = post(client, value="")
    assert "Det här fältet är obligatoriskt." in empty.content.decode()  # Django's own catalogue
    limited = post(client, value="anna@alpha.example")
    assert limited.status_code == 429
    assert "För många försök från ditt nätverk. Försök igen om en timme." in (
        limited.content.decode()
    )
    assert not mailoutbox


@pytest.mark.django_db
def test_english_stays_the_default(mailoutbox, post):
    for client in (Client(), Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")):
        page = client.get(URL)
        html = page.content.decode()
        assert '<html lang="en-gb">' in html
        assert "Stop us using your contact details" in html
        assert "Be oss sluta använda" not in html
    post(Client(), value="anna@alpha.example")
    (mail,) = mailoutbox
    assert mail.subject == "Confirm your objection to LeadPilot"
    assert "Someone, hopefully you" in mail.body


@pytest.mark.django_db
def test_the_switch_sets_the_language_over_the_browsers_choice():
    client = Client()
    html = client.get(URL).content.decode()
    # A form posting to set_language, back to this page; English is the current one.
    assert f'action="{reverse("set_language")}" method="post"' in html
    assert f'name="next" value="{URL}"' in html
    assert re.search(r'<button[^>]*value="en-gb"[^>]*aria-current="true"', html)
    assert re.search(r'<button[^>]*value="sv"[^>]*>Svenska</button>', html)

    switched = client.post(reverse("set_language"), {"language": "sv", "next": URL})
    assert switched.status_code == 302 and switched["Location"] == URL
    assert "Be oss sluta använda dina kontaktuppgifter" in client.get(URL).content.decode()
    assert "Underbiträden" in client.get(reverse("privacy:subprocessors")).content.decode()

    # A Swedish browser that chose English keeps English.
    swede = swedish_client()
    assert "Be oss sluta använda" in swede.get(URL).content.decode()
    swede.post(reverse("set_language"), {"language": "en-gb", "next": URL})
    assert "Stop us using your contact details" in swede.get(URL).content.decode()


def _po_entries(text: str):
    """(references, msgid, msgstrs) of each entry of a .po file (enough of the format for ours)."""
    for block in text.split("\n\n"):
        refs = " ".join(line[3:] for line in block.splitlines() if line.startswith("#: "))
        fields: dict[str, str] = {}
        current = ""
        for line in block.splitlines():
            if line.startswith(("msgid", "msgstr")):
                current, _, rest = line.partition(" ")
                fields[current] = rest[1:-1]
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if fields.get("msgid"):
            msgstrs = [value for key, value in fields.items() if key.startswith("msgstr")]
            yield refs, fields["msgid"], msgstrs


# Everything a person reads on the public privacy pages and in the e-mail, and the page's errors
# (raised by the opt-out service and view, whose files hold staff strings too).
PUBLIC_SOURCES = re.compile(
    r"templates/privacy/(optout\w*\.html|subprocessors\.html|emails/)"
    r"|templates/includes/language_switch\.html|privacy/forms\.py|privacy/models\.py"
)
ERRORS = {
    "Too many attempts from your network. Try again in an hour.",
    "Choose an e-mail address or a phone number.",
    "Enter a valid e-mail address.",
    "Enter a valid phone number, with its country code (+44 …).",
    "Enter the e-mail address we send the confirmation link to.",
}


def test_every_string_of_the_public_privacy_pages_has_a_swedish_translation():
    entries = [
        (msgid, msgstrs)
        for refs, msgid, msgstrs in _po_entries(PO.read_text(encoding="utf-8"))
        if PUBLIC_SOURCES.search(refs) or msgid in ERRORS
    ]
    assert {msgid for msgid, _ in entries} >= ERRORS
    assert len(entries) >= 45  # the pages, the form, the errors and the e-mail
    assert [msgid for msgid, msgstrs in entries if not all(msgstrs)] == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_the_committed_mo_is_compiled_from_the_po(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check", "-o", str(compiled), str(PO)],
        check=True,
        capture_output=True,
    )

    def catalogue(path: Path) -> dict:
        with path.open("rb") as fp:
            return gettext.GNUTranslations(fp)._catalog

    # Compared as catalogues, not bytes: another gettext version may lay the file out differently.
    assert catalogue(PO.with_suffix(".mo")) == catalogue(compiled), (
        "locale/sv/LC_MESSAGES/django.mo is stale: run manage.py compilemessages -l sv"
    )
