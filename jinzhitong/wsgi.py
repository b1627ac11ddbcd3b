import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinzhitong.settings")
application = get_wsgi_application()

# Only a process that serves requests gets here (runserver's serving child, gunicorn): without
# a broker it runs the beat schedule itself (jinzhitong/scheduler.py).
from jinzhitong.scheduler import start_embedded  # noqa: E402

start_embedded()
