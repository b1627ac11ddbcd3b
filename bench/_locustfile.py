"""The people bench/load.py sends at the production stack (locust; run by bench/load.py).

Grid workers log in and file reports with a photo the way the phone's queue posts them
(multipart, ``Accept: application/json``, an idempotency key made with the draft);
street staff work the triage queue and the board; handlers open their inbox. Logins
are the demo city's (``load_demo``); several simulated people may share one login.

Request names (the bench's metric names): login, filing_page, filing_post, triage,
board, inbox.
"""

from __future__ import annotations

import io
import os
import random
import re
import uuid
from typing import Any

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "jzt-demo-2026")
WORKERS = ("zhangxin", "wangli", "zhaogang", "xining")
STAFF = ("wanxing", "ruijing")
HANDLERS = ("chengguan",)


def _photo() -> bytes:
    """A 1280×960 JPEG (~150 KB), about what the phone sends after resizing."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1280, 960), (96, 128, 96))
    draw = ImageDraw.Draw(img)
    rnd = random.Random(1)
    for _ in range(300):
        x, y = rnd.randrange(1280), rnd.randrange(960)
        draw.ellipse([x, y, x + 40, y + 30], fill=(rnd.randrange(256), 90, rnd.randrange(256)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=82)
    return out.getvalue()


PHOTO = _photo()
_OPTION = re.compile(r'<option value="(\d+)"')


def _first_option(html: str, name: str) -> str | None:
    start = html.find(f'<select name="{name}"')
    if start < 0:
        return None
    found = _OPTION.search(html, start, html.find("</select>", start))
    return found.group(1) if found else None


class _Person(HttpUser):
    abstract = True
    logins: tuple[str, ...] = ()

    def _insecure_cookies(self) -> None:
        # Production marks cookies Secure (TLS at nginx); the bench talks plain HTTP to
        # gunicorn, so the client must be told to send them anyway.
        for cookie in self.client.cookies:
            cookie.secure = False

    def _csrf(self) -> str:
        self._insecure_cookies()
        return self.client.cookies.get("csrftoken", "")

    def on_start(self) -> None:
        self.username = random.choice(self.logins)
        self.client.get("/accounts/login/", name="login")
        response = self.client.post(
            "/accounts/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": self._csrf()},
            name="login", allow_redirects=False,
        )
        self._insecure_cookies()
        if response.status_code != 302:
            raise RuntimeError(f"login {self.username}: {response.status_code}")

    def page(self, url: str, name: str) -> Any:
        response = self.client.get(url, name=name)
        self._insecure_cookies()
        return response


class GridWorker(_Person):
    weight = 5
    wait_time = between(0.5, 1.5)
    logins = WORKERS

    @task
    def file_a_report(self) -> None:
        html = self.page("/m/file/", "filing_page").text
        grid, category = _first_option(html, "grid"), _first_option(html, "category")
        if not grid or not category:
            return
        with self.client.post(
            "/m/file/",
            data={
                "idempotency_key": uuid.uuid4().hex, "grid": grid, "category": category,
                "urgency": "normal", "description": "负载测试：路边垃圾堆放，影响通行",
            },
            files=[("photos", ("photo.jpg", PHOTO, "image/jpeg"))],
            headers={"Accept": "application/json", "X-CSRFToken": self._csrf(),
                     "Referer": self.host + "/m/file/"},
            name="filing_post", catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code} {response.text[:200]}")
        self._insecure_cookies()


class StreetStaff(_Person):
    weight = 2
    wait_time = between(1, 3)
    logins = STAFF

    @task(2)
    def triage(self) -> None:
        self.page("/center/triage/", "triage")

    @task(1)
    def board(self) -> None:
        self.page("/center/board/", "board")


class Handler(_Person):
    weight = 1
    wait_time = between(1, 3)
    logins = HANDLERS

    @task
    def inbox(self) -> None:
        self.page("/dept/inbox/", "inbox")
