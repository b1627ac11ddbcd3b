"""Chinese resident identity numbers (GB 11643-1999) and phone numbers: check and mask.

A leaf module (no ORM). Errors are Chinese sentences a grid worker can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# Province-level codes of GB/T 2260 (the first two digits of every region code).
PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


class IdentityError(ValueError):
    """A value that is not a valid identity or phone number; str() is the reason."""


@dataclass(frozen=True)
class IdentityInfo:
    number: str
    birth_date: date
    sex: str  # "M" or "F"


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise_id(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def parse_id_number(value: str, *, today: date | None = None) -> IdentityInfo:
    """Check an 18-character identity number; return its birth date and sex."""
    number = normalise_id(value)
    if len(number) != 18 or not _ID_RE.match(number):
        raise IdentityError(_("身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X"))
    if int(number[:2]) not in PROVINCES or number[2:6] == "0000":
        raise IdentityError(_("身份证号的地区码无效"))
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as e:
        raise IdentityError(_("身份证号中的出生日期无效")) from e
    if born.year < 1900 or born > (today or date.today()):
        raise IdentityError(_("身份证号中的出生日期无效"))
    if check_digit(number[:17]) != number[17]:
        raise IdentityError(_("身份证号校验位错误"))
    return IdentityInfo(number=number, birth_date=born, sex="M" if int(number[16]) % 2 else "F")


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s()]", "", value or "")


def check_phone(value: str) -> str:
    phone = normalise_phone(value)
    if phone and not (_MOBILE_RE.match(phone) or _LANDLINE_RE.match(phone)):
        raise IdentityError(_("联系电话应为 11 位手机号或带区号的固定电话"))
    return phone


def mask_id(number: str) -> str:
    """``120***********1234``: the region's first three digits and the last four."""
    if not number:
        return ""
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(phone: str) -> str:
    """``138****5678``."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
