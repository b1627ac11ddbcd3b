"""The English catalogue is complete, safe to format, compiled, and served to English readers.

Chinese is the source language, so an untranslated or fuzzy entry shows Chinese to an
English reader, and a placeholder lost in translation makes `%` raise at run time.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

PO_PATH = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
LOGIN = "/accounts/login/"

NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
# Any printf-style conversion, named or positional; "%%" is a literal percent sign.
CONVERSION = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


def parse_po(text: str) -> list[Entry]:
    """A tiny .po reader: msgctxt/msgid/msgid_plural/msgstr[n], flags; obsolete entries skipped."""
    entries: list[Entry] = []
    entry: Entry | None = None
    key: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            entry, key = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = Entry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")', line)
        if match:
            key, index, literal = match.groups()
            value = ast.literal_eval(literal)
            if key == "msgctxt":
                entry.msgctxt = value
            elif key == "msgid":
                entry.msgid = value
            elif key == "msgid_plural":
                entry.msgid_plural = value
            else:
                key = f"msgstr[{int(index or 0)}]"
                entry.msgstr[int(index or 0)] = value
            continue
        assert line.startswith('"') and key is not None, f"unexpected line {number}: {raw!r}"
        value = ast.literal_eval(line)
        if key == "msgctxt":
            entry.msgctxt = (entry.msgctxt or "") + value
        elif key == "msgid":
            entry.msgid += value
        elif key == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + value
        else:
            index = int(key[len("msgstr[") : -1])
            entry.msgstr[index] += value
    return [e for e in entries if e.msgid or e.msgstr]


@pytest.fixture(autouse=True)
def _back_to_the_default_language() -> Iterator[None]:
    # LocaleMiddleware leaves the language of the last request active in the thread;
    # later tests on this worker expect the Chinese default.
    yield
    translation.deactivate()


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return parse_po(PO_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def messages(entries: list[Entry]) -> list[Entry]:
    """Every entry except the header (the one with an empty msgid)."""
    return [e for e in entries if e.msgid]


def test_it_reads_a_catalogue_with_a_header_and_many_messages(entries: list[Entry]) -> None:
    header = [e for e in entries if not e.msgid]
    assert len(header) == 1
    assert "Language: en\n" in header[0].msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header[0].msgstr[0]
    assert len(entries) > 400


def test_it_parses_plural_and_multi_line_entries() -> None:
    text = (
        'msgid ""\nmsgstr "Language: en\\n"\n\n'
        '#, fuzzy, python-format\nmsgctxt "count"\nmsgid ""\n"甲"\n"乙"\n'
        'msgid_plural "%(n)s 个"\nmsgstr[0] "one \\"%(n)s\\""\nmsgstr[1] ""\n"many"\n\n'
        '#~ msgid "旧"\n#~ msgstr "old"\n'
    )
    header, plural = parse_po(text)
    assert header.msgstr == {0: "Language: en\n"}
    assert plural.flags == {"fuzzy", "python-format"}
    assert (plural.msgctxt, plural.msgid, plural.msgid_plural) == ("count", "甲乙", "%(n)s 个")
    assert plural.msgstr == {0: 'one "%(n)s"', 1: "many"}


def test_it_translates_every_message(messages: list[Entry]) -> None:
    untranslated = [e.label for e in messages if not all(e.msgstr.values()) or not e.msgstr]
    assert untranslated == []


def test_it_has_no_fuzzy_guesses_left(messages: list[Entry]) -> None:
    assert [e.label for e in messages if "fuzzy" in e.flags] == []


def test_it_gives_plural_messages_both_english_forms(messages: list[Entry]) -> None:
    plurals = [e for e in messages if e.msgid_plural is not None]
    assert plurals
    assert [e.label for e in plurals if sorted(e.msgstr) != [0, 1]] == []


def test_it_keeps_every_named_placeholder(messages: list[Entry]) -> None:
    mismatched = [
        (e.label, index)
        for e in messages
        for index, text in e.msgstr.items()
        if set(NAMED.findall(text)) != set(NAMED.findall(e.msgid))
    ]
    assert mismatched == []


def test_it_keeps_every_conversion_of_python_format_messages(messages: list[Entry]) -> None:
    formatted = [e for e in messages if "python-format" in e.flags]
    assert formatted
    mismatched = [
        (e.label, index)
        for e in formatted
        for index, text in e.msgstr.items()
        if sorted(set(CONVERSION.findall(text))) != sorted(set(CONVERSION.findall(e.msgid)))
    ]
    assert mismatched == []


def test_it_serves_the_compiled_catalogue_that_matches_the_po_file(
    messages: list[Entry],
) -> None:
    # A .po edited without running compilemessages leaves English readers with Chinese.
    stale = []
    with translation.override("en"):
        for e in messages:
            if e.msgid_plural is not None:
                got = [translation.ngettext(e.msgid, e.msgid_plural, n) for n in (1, 2)]
                want = [e.msgstr[0], e.msgstr[1]]
            elif e.msgctxt is not None:
                got, want = [translation.pgettext(e.msgctxt, e.msgid)], [e.msgstr[0]]
            else:
                got, want = [translation.gettext(e.msgid)], [e.msgstr[0]]
            if got != want:
                stale.append(e.label)
    assert stale == []


def test_it_shows_the_login_page_in_english_to_an_english_browser(client: Client, db: None) -> None:
    response = client.get(LOGIN, headers={"accept-language": "en-GB,en;q=0.9"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert ">Sign in</h1>" in html
    assert ">Username</label>" in html
    assert "Forgot your password?" in html
    assert "登录" not in html.split("<footer", 1)[0]


@pytest.mark.parametrize("headers", [{}, {"accept-language": "zh-CN,zh;q=0.9"}])
def test_it_shows_the_login_page_in_chinese_by_default(
    client: Client, db: None, headers: dict[str, str]
) -> None:
    response = client.get(LOGIN, headers=headers)
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert ">登录</h1>" in html
    assert ">用户名</label>" in html
    assert "Sign in" not in html


def test_it_keeps_english_chosen_with_the_language_switch(client: Client, db: None) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": LOGIN})
    html = client.get(LOGIN).content.decode()
    assert '<html lang="en">' in html
    assert ">Password</label>" in html
