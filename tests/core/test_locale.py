"""The English catalogue ships complete: no untranslated or fuzzy entry, placeholders kept, and the compiled
``django.mo`` says exactly what ``django.po`` says (a catalogue edited but not recompiled would show stale words)."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

LC_MESSAGES = Path(__file__).resolve().parents[2] / "src" / "needpool" / "locale" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")

pytestmark = pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext's msgfmt")


def compiled(po: Path, tmp_path: Path) -> dict[object, str]:
    out = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(out), str(po)], check=True, capture_output=True)
    with out.open("rb") as f:
        return gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]


def test_every_english_entry_is_translated_and_not_fuzzy(tmp_path):
    po = LC_MESSAGES / "django.po"
    stats = subprocess.run(
        ["msgfmt", "--statistics", "-o", str(tmp_path / "x.mo"), str(po)], check=True, capture_output=True, text=True
    ).stderr
    assert "fuzzy" not in stats and "untranslated" not in stats, stats


def test_translations_keep_the_placeholders(tmp_path):
    catalog = compiled(LC_MESSAGES / "django.po", tmp_path)
    wrong = []
    for key, text in catalog.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if not msgid or not isinstance(msgid, str):
            continue
        if sorted(set(PLACEHOLDER.findall(msgid))) != sorted(set(PLACEHOLDER.findall(text))):
            wrong.append((msgid, text))
    assert wrong == []


def test_the_committed_mo_matches_the_po(tmp_path):
    with (LC_MESSAGES / "django.mo").open("rb") as f:
        shipped = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    assert shipped == compiled(LC_MESSAGES / "django.po", tmp_path)
