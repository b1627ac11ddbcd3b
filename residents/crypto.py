"""Encryption at rest and keyed hashes for residents' identity and phone numbers.

``cryptography``'s MultiFernet (AES-128-CBC + HMAC-SHA256, maintained by the PyCA): the
first key of ``RESIDENTS_KEYS`` encrypts, every key decrypts, and ``rotate`` re-encrypts a
token under the first key, so a key can be retired once every row was rotated
(``manage.py residents_rotate_keys``). Exact search and uniqueness use an HMAC-SHA256 of the
normalised value under a separate key (``RESIDENTS_HMAC_KEY``), never the plain value.

A leaf module: no ORM, no app imports. Keys are read lazily so that a production
process without keys starts (``check --deploy``), and fails loudly at the first use.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "blind_index", "decrypt", "encrypt", "reset_keys", "rotate"]


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = list(getattr(settings, "RESIDENTS_KEYS", []) or [])
    if not keys:
        raise ImproperlyConfigured(
            "RESIDENTS_KEYS (or RESIDENTS_KEYS_FILE) must be set to store residents' data"
        )
    try:
        return MultiFernet([Fernet(k.encode("ascii")) for k in keys])
    except (ValueError, TypeError) as e:
        raise ImproperlyConfigured(f"RESIDENTS_KEYS holds an invalid Fernet key: {e}") from e


@lru_cache(maxsize=1)
def _hmac_key() -> bytes:
    key = getattr(settings, "RESIDENTS_HMAC_KEY", "") or ""
    if len(key) < 16:
        raise ImproperlyConfigured(
            "RESIDENTS_HMAC_KEY (or RESIDENTS_HMAC_KEY_FILE) must be set, 16 characters or more"
        )
    return key.encode("utf-8")


def reset_keys() -> None:
    """Forget the loaded keys (after settings change: tests, the rotation command)."""
    _fernet.cache_clear()
    _hmac_key.cache_clear()


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    return _fernet().decrypt(token.encode("ascii")).decode("utf-8")


def rotate(token: str) -> str:
    """The same plain value encrypted under the newest key."""
    if not token:
        return ""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


def blind_index(kind: str, value: str) -> str | None:
    """A keyed hash of ``value`` for exact lookups; ``kind`` separates id from phone."""
    if not value:
        return None
    msg = f"{kind}:{value.strip().upper()}".encode()
    return hmac.new(_hmac_key(), msg, hashlib.sha256).hexdigest()


def encrypt_bytes(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    return _fernet().decrypt(token)
