"""A household's change history (变更记录) in words: each ``Change`` row's before/after data
as a sentence a grid worker reads, never as the raw dictionaries it is stored as."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from residents.models import Change, ChangeKind, Relation


def _relation(code: Any) -> str:
    try:
        return str(Relation(code).label)
    except ValueError:
        return str(code or "—")


def _place(data: Mapping[str, Any]) -> str:
    floor, door = data.get("floor"), data.get("door")
    if floor is None and not door:
        return "—"
    return _("%(floor)s 层 %(door)s") % {"floor": floor if floor is not None else "—",
                                       "door": door or "—"}


def _level(rank: Any, levels: Mapping[int, str]) -> str:
    if rank is None:
        return _("无")
    name = levels.get(rank)
    return f"{rank} · {name}" if name else str(rank)


def _tags(data: Mapping[str, Any], tags: Mapping[str, str]) -> str:
    if not data:
        return _("无")
    parts = []
    for code, grade in data.items():
        name = tags.get(code, code)
        parts.append(_("%(tag)s%(grade)s级") % {"tag": name, "grade": grade} if grade else name)
    return "、".join(parts)


def change_text(change: Change, *, levels: Mapping[int, str], tags: Mapping[str, str]) -> str:
    """One change as a sentence; ``levels`` maps care-level ranks to names and ``tags`` tag
    codes to names (both read once per page)."""
    before, after = change.before or {}, change.after or {}
    kind = change.kind
    if kind == ChangeKind.IMPORTED:
        return _("从台账导入 %(rows)s 行") % {"rows": after.get("rows", "—")}
    if kind == ChangeKind.CREATED:
        return _("建档：%(place)s") % {"place": _place(after)}
    if kind == ChangeKind.MOVED:
        return _("迁移：%(before)s → %(after)s") % {
            "before": _place(before), "after": _place(after)
        }
    if kind == ChangeKind.MEMBER_ADDED:
        return _("新增成员 %(name)s（%(relation)s）") % {
            "name": after.get("name") or "—", "relation": _relation(after.get("relation"))
        }
    if kind == ChangeKind.MEMBER_MOVED:
        name = change.person.name if change.person and change.person.name else "—"
        return _("成员 %(name)s 迁入本户（%(relation)s）") % {
            "name": name, "relation": _relation(after.get("relation"))
        }
    if kind == ChangeKind.TAGS:
        return _("标签：%(before)s → %(after)s") % {
            "before": _tags(before, tags), "after": _tags(after, tags)
        }
    if kind == ChangeKind.CARE_LEVEL:
        text = _("关注等级：%(before)s → %(after)s") % {
            "before": _level(before.get("level"), levels),
            "after": _level(after.get("level"), levels),
        }
        if after.get("until"):
            text += _("（至 %(until)s）") % {"until": after["until"]}
        return text
    return str(change.get_kind_display())
