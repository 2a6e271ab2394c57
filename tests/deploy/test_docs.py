"""docs/ and the README speak of the project alone: every file they point at is in the repository
(docs/billing.md sent readers to a notes file outside it, issue 12)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
OUTSIDE = re.compile(r"/work/|/home/|/tmp/|\bshared/|\.\./|\b(?:DESIGN|STYLE)\.md\b|\bnotes/")
LINK = re.compile(r"\]\(([^)#\s]+)")


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_docs_name_nothing_outside_the_repository():
    found = [
        f"{page.relative_to(ROOT)}:{n}: {line.strip()}"
        for page in _pages()
        for n, line in enumerate(page.read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == []


def test_docs_links_point_at_files_in_the_repository():
    broken = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in _pages()
        for target in LINK.findall(page.read_text())
        if "://" not in target
        and not target.startswith("mailto:")
        and not (page.parent / target).exists()
    ]
    assert broken == []
