"""The shipped catalogues are complete and compiled (issue 17, "makemessages clean in CI").

For every language of settings.LANGUAGES but the source language, `makemessages` runs over the
code into a temporary copy of locale/ (the committed files are not touched): the test fails naming
each msgid that has no translation or is marked fuzzy, with where it is used, so a new string
cannot ship in English only. The committed .mo must hold exactly the committed .po's translations
(a stale .mo shows English or old wording in production, where gettext reads only the .mo).
Needs GNU gettext (xgettext, msgmerge): `make test` installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
LOCALE = BASE / "locale"
# What makemessages reads: the code and templates; not the environment, tests or build output.
IGNORE = [".venv", "tests", "bench", "staticfiles", "var", "node_modules", "*.egg-info", "locale"]


def _shipped() -> list[str]:
    source = settings.LANGUAGE_CODE.split("-")[0]
    return [code for code, _name in settings.LANGUAGES if code.split("-")[0] != source]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tree of symlinks to the repository's sources with a copy of locale/, and makemessages
    run in it for every shipped language."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.fail("GNU gettext is missing: apt-get install gettext (make test does it)")
    tree = tmp_path_factory.mktemp("i18n")
    for entry in BASE.iterdir():
        if entry.name in {"locale", ".git"} or entry.name.startswith("."):
            continue
        (tree / entry.name).symlink_to(entry)
    shutil.copytree(LOCALE, tree / "locale")
    args = [sys.executable, "manage.py", "makemessages", "--symlinks", "--no-obsolete"]
    args += [f"--ignore={pattern}" for pattern in IGNORE]
    args += [f"--locale={code}" for code in _shipped()]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "leadpilot.settings.test"
        ),
    }
    done = subprocess.run(args, cwd=tree, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return tree / "locale"


@pytest.mark.parametrize("language", _shipped())
def test_every_string_is_translated(extracted: Path, language: str) -> None:
    catalogue = polib.pofile(str(extracted / language / "LC_MESSAGES" / "django.po"))
    missing = [
        entry
        for entry in catalogue
        if not entry.obsolete and (not entry.translated() or "fuzzy" in entry.flags)
    ]
    report = "\n".join(
        f"  {'fuzzy' if 'fuzzy' in e.flags else 'untranslated'}: {e.msgid!r}"
        f" ({', '.join(f'{path}:{line}' for path, line in e.occurrences[:2])})"
        for e in missing
    )
    assert not missing, (
        f"{len(missing)} string(s) without a {language} translation; run makemessages -l "
        f"{language} (README, 'Translations'), translate them in locale/{language}/LC_MESSAGES/"
        f"django.po and compile:\n{report}"
    )


@pytest.mark.parametrize("language", _shipped())
def test_the_committed_mo_is_compiled_from_the_committed_po(language: str) -> None:
    folder = LOCALE / language / "LC_MESSAGES"
    po = polib.pofile(str(folder / "django.po"))
    mo = polib.mofile(str(folder / "django.mo"))

    def key(entry: polib._BaseEntry) -> tuple[str | None, str]:
        return (entry.msgctxt, entry.msgid)

    def value(entry: polib._BaseEntry) -> tuple[str, ...]:
        if entry.msgid_plural:
            return tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
        return (entry.msgstr,)

    wanted = {
        key(e): value(e)
        for e in po
        if e.msgid and not e.obsolete and e.translated() and "fuzzy" not in e.flags
    }
    compiled = {key(e): value(e) for e in mo if e.msgid}
    stale = sorted(
        str(k[1]) for k in wanted.keys() | compiled.keys() if wanted.get(k) != compiled.get(k)
    )
    assert not stale, (
        f"locale/{language}/LC_MESSAGES/django.mo differs from django.po in {len(stale)} "
        f"string(s); run compilemessages -l {language}: {stale[:10]}"
    )
