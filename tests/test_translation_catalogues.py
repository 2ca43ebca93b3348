"""Chinese first: every catalogue is complete and its compiled .mo matches the .po."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = sorted(
    p for p in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in p.parts
)
_ENTRY = re.compile(r'^(#, fuzzy\n)?(?:#.*\n)*?(?:msgctxt ((?:".*"\n)+))?msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)',
                    re.M)


def _text(quoted: str) -> str:
    return "".join(re.findall(r'"(.*)"', quoted)).encode().decode("unicode_escape").encode("latin-1").decode()


def _entries(po: Path) -> list[tuple[str, str, bool]]:
    entries = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        match = _ENTRY.search(block + "\n")
        if match is None or "msgid_plural" in block:
            continue
        msgid = _text(match.group(3))
        if msgid:
            entries.append((msgid, _text(match.group(4)), "#, fuzzy" in block))
    return entries


def test_there_are_catalogues_for_every_area():
    names = {p.parts[len(ROOT.parts)] for p in CATALOGUES}
    assert {"tickets", "customers", "calls", "outages", "locale", "templates"} <= names


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_string_has_a_chinese_translation(po):
    untranslated = [msgid for msgid, msgstr, fuzzy in _entries(po) if not msgstr or fuzzy]
    assert untranslated == []


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_compiled_catalogue_matches_its_source(po):
    mo = po.with_suffix(".mo")
    assert mo.exists(), "run make messages"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [msgid for msgid, msgstr, _fuzzy in _entries(po) if compiled.gettext(msgid) != msgstr]
    assert stale == []
