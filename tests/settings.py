"""Test settings: fast hashing, no real network, template variables must exist."""

from jinzhitong.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = "INVALID_TEMPLATE_VARIABLE[%s]"  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SECURE_SSL_REDIRECT = False
LANGUAGE_CODE = "zh-hans"

# Unit tests run tasks through on_commit capture, never a broker; the one real-worker
# test (marked `worker`) sets up its own Redis and app configuration.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
# Tests run the scheduled tasks themselves (tests/test_scheduler.py calls the tick).
EMBEDDED_SCHEDULER = False
# xdist workers must not share a cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Uploaded photos go to a throw-away folder, never into the checkout.
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="jzt-test-media-"))

# Production renews the session on every request (12 idle hours); that is three more
# queries per request (savepoint, UPDATE, release) which would blur every page's query
# budget. tests/accounts/test_throttling.py turns it back on to test it.
SESSION_SAVE_EVERY_REQUEST = False

# A "replica" alias reading the primary's test database (a mirror: no second copy). Nothing
# reads it unless a test sets REPLICA_DATABASE = "replica" (tests/test_db_router.py).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
