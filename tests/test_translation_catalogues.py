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
_ENTRY = re.compile(
    r'^(#, fuzzy\n)?(?:#.*\n)*?(?:msgctxt ((?:".*"\n)+))?msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)',
    re.M,
)


def _text(quoted: str) -> str:
    return (
        "".join(re.findall(r'"(.*)"', quoted))
        .encode()
        .decode("unicode_escape")
        .encode("latin-1")
        .decode()
    )


def _entries(po: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) per entry; a context is kept as gettext stores it: "ctx\x04msgid"."""
    entries = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        match = _ENTRY.search(block + "\n")
        if match is None or "msgid_plural" in block:
            continue
        msgid = _text(match.group(3))
        if match.group(2):
            msgid = _text(match.group(2)) + "\x04" + msgid
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
    # GNUTranslations keys a context entry as "ctx\x04msgid", the same form _entries uses.
    stale = [
        msgid for msgid, msgstr, _fuzzy in _entries(po) if compiled._catalog.get(msgid) != msgstr
    ]
    assert stale == []


def test_a_string_means_the_same_in_every_catalogue():
    """Django merges all catalogues into one table: the same English string with two Chinese
    translations shows one of them everywhere (a status label turning into a column header).
    Different meanings need different strings or a context (pgettext)."""
    translations: dict[str, dict[str, list[str]]] = {}
    for po in CATALOGUES:
        area = str(po.relative_to(ROOT)).split("/locale")[0]
        for msgid, msgstr, _fuzzy in _entries(po):
            translations.setdefault(msgid, {}).setdefault(msgstr, []).append(area)
    conflicts = {msgid: found for msgid, found in translations.items() if len(found) > 1}
    assert conflicts == {}
