"""Production settings for bench/load.py when ``collectstatic`` cannot write a manifest
on this checkout: static files compressed but not hashed (no page's cost changes)."""

from jinzhitong.settings import *  # noqa: F403

STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedStaticFilesStorage"  # noqa: F405
