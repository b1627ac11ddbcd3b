"""The production stack as it will run: DEBUG=0, collectstatic with the manifest storage,
two gunicorn instances, two Celery workers and beat on PostgreSQL and Redis, Debian's nginx
in front with the site of deploy/nginx/jinzhitong.conf (tests/prod/stack.py).

Through nginx, in Chromium: 张鑫 files from his phone with a photo → 万兴街道's center
立案并派遣 → 城建科 签收 and 处置完毕 with a result photo → 张鑫 核查 seeing the result photo
and its thumbnail → the center 结案; every photo and thumbnail on the way is really shown
(naturalWidth > 0). Static files come hashed and gzipped from nginx; /media/ and the internal
photo location answer 404; the photo view refuses an anonymous visitor.

Then the scale-out guarantees over both instances and both workers: many submissions, each
key sent several times at once to both instances, give one case per key, routed once, with
consecutive numbers.

Skipped without PostgreSQL and Redis (a developer's SQLite checkout); CI has both and
fails rather than skips (CI=true).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.prod import stack as stack_module
from tests.prod.stack import PASSWORD, Stack

pytestmark = pytest.mark.prod

HERE = {"longitude": 117.1725, "latitude": 39.1039}  # the middle of the demo's 第六网格


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    reason = stack_module.unavailable()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    s = stack_module.build(tmp_path_factory.mktemp("prodstack"))
    started = time.monotonic()
    try:
        s.start()
        collected = [line for line in s.collectstatic_output.splitlines() if "static file" in line]
        phases = ", ".join(f"{k} {v:.0f} s" for k, v in s.timings.items())
        print(f"\nproduction stack up in {time.monotonic() - started:.0f} s ({phases}); "
              f"nginx https :{s.ports['https']}, gunicorn :{s.ports['web1']} :{s.ports['web2']}; "
              f"collectstatic: {' '.join(collected)}")
        yield s
    except Exception:
        for name in s.procs:
            print(f"--- {name} ---\n{s.log(name)[-3000:]}")
        raise
    finally:
        failed = {n: c for n, c in s.alive().items() if c is not None}
        s.stop()
        assert not failed, f"a process of the stack stopped during the tests: {failed}"


def _in_own_thread(story: Callable[[Any], None]) -> None:
    """Run ``story(browser)`` with a Chromium of its own, in a thread of its own.

    On an xdist worker that already ran tests/e2e, their session browser keeps Playwright's
    event loop running in the main thread, where a second sync Playwright refuses to start;
    a fresh thread has no loop. Failures are raised here, in the test's thread."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    errors: list[BaseException] = []

    def run() -> None:
        try:
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    story(b)
                finally:
                    b.close()
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=run, name="prod-story")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _page(browser: Any, *, phone: bool) -> Any:
    options: dict[str, Any] = {"locale": "zh-CN", "ignore_https_errors": True}
    if phone:
        options.update(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
            device_scale_factor=2, geolocation=HERE, permissions=["geolocation"],
        )
    else:
        options.update(viewport={"width": 1366, "height": 768})
    context = browser.new_context(**options)
    context.set_default_timeout(30_000)
    return context.new_page()


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/work/**")


def _jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (1200, 900)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return buf.getvalue()


def _file(colour: tuple[int, int, int], name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": _jpeg(colour)}


def _wait_for(check: Callable[[], Any], seconds: float = 60, what: str = "") -> Any:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {seconds}s: {what}")


def _photos_shown(page: Any, selector: str, count: int) -> list[str]:
    """Wait until at least ``count`` images match (the case page shows a photo in its
    photo section and again in the timeline) and each has really loaded; their URLs."""
    # The thumbnails load lazily: make them load now, wherever they are on the page.
    page.eval_on_selector_all(selector, "imgs => imgs.forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function(
        """([sel, n]) => {
            const imgs = [...document.querySelectorAll(sel)];
            return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0);
        }""",
        arg=[selector, count],
    )
    return page.eval_on_selector_all(selector, "imgs => imgs.map(i => i.currentSrc)")


def _thumbnail_made(stack: Stack, report_id: int, kind: str) -> bool:
    rows = stack.sql(
        "SELECT count(*) FROM reports_reportphoto WHERE report_id = %s AND kind = %s "
        "AND thumbnail <> ''", (report_id, kind),
    )
    return rows[0][0] >= 1


def test_the_production_stack_as_it_runs(stack: Stack) -> None:
    """One test, so that one stack serves it all whatever worker xdist sends it to."""
    _in_own_thread(lambda browser: _story(stack, browser))
    _static_and_media(stack)
    _scale_out(stack)


def _story(stack: Stack, browser: Any) -> None:
    base = stack.base

    # 1. 张鑫 files on his phone: photo, GPS position, 路灯 (proposed to 城建科).
    phone = _page(browser, phone=True)
    _log_in(phone, base, "zhangxin")
    phone.goto(f"{base}/m/file/")
    phone.wait_for_selector("#file-form[data-ready='1']")
    phone.wait_for_function(
        "() => document.getElementById('place-status').textContent.includes('第六网格')"
    )
    phone.set_input_files("#photo-gallery", files=[_file((90, 140, 60), "lamp.jpg")])
    phone.wait_for_selector("#photo-list li img")
    phone.fill("#category-search", "路灯")
    phone.get_by_role("button", name="设施管理 › 路灯").click()
    description = f"25号楼前路灯杆倾斜（{uuid.uuid4().hex[:6]}）"
    phone.get_by_label("问题描述").fill(description)
    phone.get_by_role("button", name="提交上报").click()
    phone.wait_for_url(f"{base}/m/mine/")
    [(report_id, number)] = stack.sql(
        "SELECT id, number FROM reports_report WHERE description = %s", (description,)
    )
    phone.get_by_text(number).first.wait_for()
    # The worker makes the thumbnail; the case page shows it through the photo view.
    _wait_for(lambda: _thumbnail_made(stack, report_id, "report"), what="the thumbnail")
    phone.goto(f"{base}/cases/{report_id}/")
    thumb = _photos_shown(phone, ".thumbs img", 1)[0]
    assert thumb.endswith("?thumb=1") and f"/cases/{report_id}/photos/" in thumb

    # 2. The street center accepts and dispatches from triage, with the proposal.
    center = _page(browser, phone=False)
    _log_in(center, base, "wanxing")
    center.get_by_role("link", name="分拨台").first.click()
    row = center.locator(f"article[aria-labelledby=case-{report_id}]")
    assert "万兴街道城建科" in row.inner_text()
    _photos_shown(center, f"article[aria-labelledby=case-{report_id}] .thumbs img", 1)
    row.get_by_role("button", name="立案并派遣").click()
    center.get_by_text(f"案件 {number}：立案并派遣 成功").wait_for()

    # 3. 城建科 acknowledges in its inbox and handles with a result photo.
    dept = _page(browser, phone=False)
    _log_in(dept, base, "chengjian")
    dept.get_by_role("link", name="待办案件").first.click()
    dept.locator("article", has_text=number).get_by_role("button", name="签收").click()
    dept.get_by_text(f"案件 {number}：签收 成功").wait_for()
    dept.goto(f"{base}/cases/{report_id}/")
    _photos_shown(dept, ".thumbs img", 1)
    handle = dept.locator("form[data-action='handle']")
    handle.locator("textarea[name=note]").fill("已扶正加固路灯杆")
    handle.locator("input[name=photos]").set_input_files(files=[_file((210, 210, 200), "ok.jpg")])
    handle.get_by_role("button", name="处置完毕（反馈）").click()
    dept.get_by_text(f"案件 {number}：处置完毕（反馈） 成功").wait_for()
    _photos_shown(dept, ".thumbs img", 2)  # before and after

    # 4. 张鑫 checks on site: the result photo's thumbnail in the queue and on the 核查 page,
    # the full photo behind it.
    _wait_for(lambda: _thumbnail_made(stack, report_id, "result"), what="the result thumbnail")
    phone.goto(f"{base}/m/verify/")
    card = f"li.case:has(a[href='/cases/{report_id}/'])"
    [queue_thumb] = _photos_shown(phone, f"{card} .thumbs img", 1)  # its only photo
    phone.goto(f"{base}/m/verify/{report_id}/")
    [page_thumb] = _photos_shown(phone, ".thumbs img", 1)
    assert page_thumb == queue_thumb
    full = phone.locator(".thumbs a").first.get_attribute("href")
    phone.goto(f"{base}{full}")
    assert phone.evaluate("() => document.images[0].naturalWidth") == 1200  # the photo
    thumb_width = phone.evaluate(
        """async (u) => {
            const i = new Image(); i.src = u; await i.decode(); return i.naturalWidth;
        }""",
        page_thumb,
    )
    assert 0 < thumb_width < 1200  # the thumbnail, not the photo again
    phone.goto(f"{base}/m/verify/")
    phone.locator(card).get_by_role("button", name="核查通过").click()
    phone.get_by_text(f"已提交核查结果：{number}").wait_for()

    # 5. The center closes it.
    center.goto(f"{base}/cases/{report_id}/")
    _photos_shown(center, ".thumbs img", 2)
    center.locator("form[data-action='close']").get_by_role("button", name="结案").click()
    center.get_by_text(f"案件 {number}：结案 成功").wait_for()
    assert stack.sql("SELECT state FROM reports_report WHERE id = %s", (report_id,)) == [
        ("closed",)
    ]
    kinds = [k for (k,) in stack.sql(
        "SELECT kind FROM reports_reportevent WHERE report_id = %s ORDER BY at, id", (report_id,)
    )]
    assert kinds == ["filed", "routed", "accepted", "dispatched", "acknowledged", "handled",
                     "verified", "closed"]

    # The photo bytes came from nginx (X-Accel-Redirect), never exposing the header.
    status, headers, body = _with_session(stack, phone, full)
    assert status == 200 and headers["Content-Type"] == "image/jpeg" and body[:2] == b"\xff\xd8"
    assert "X-Accel-Redirect" not in headers and headers["Cache-Control"].startswith("private")
    nginx_log = (stack.root / "nginx" / "access.log").read_text()
    assert f"GET {full} " in nginx_log


def _with_session(stack: Stack, page: Any, path: str) -> tuple[int, dict[str, str], bytes]:
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    return stack.get(path, {"Cookie": cookie})


def _static_and_media(stack: Stack) -> None:
    """Static files hashed and gzipped from nginx; /media/ never public."""
    assert "static files copied" in stack.collectstatic_output
    status, _headers, body = stack.get("/accounts/login/")
    assert status == 200
    html = body.decode()
    css = re.search(r'href="(/static/css/base\.[0-9a-f]{12}\.css)"', html)
    js = re.search(r'src="(/static/vendor/htmx\.org-2\.0\.4/htmx\.min\.[0-9a-f]{12}\.js)"', html)
    assert css and js, "static links are not hashed"
    for path in (css.group(1), js.group(1)):
        status, headers, body = stack.get(path, {"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers.get("Content-Encoding") == "gzip", path
        assert "immutable" in headers.get("Cache-Control", "")
        assert len(gzip.decompress(body)) > len(body)

    photo = stack.sql("SELECT report_id, id, image FROM reports_reportphoto ORDER BY id LIMIT 1")
    assert photo, "the story left no photo to probe"
    report_id, photo_id, image = photo[0]
    assert (Path(stack.env["MEDIA_ROOT"]) / image).is_file()
    for path in (f"/media/{image}", f"/_protected/{image}"):
        status, _headers, body = stack.get(path)
        assert status in (403, 404) and body[:2] != b"\xff\xd8", path
    # The photo view refuses an anonymous visitor: off to the login page, no image.
    status, headers, body = stack.get(f"/cases/{report_id}/photos/{photo_id}/")
    assert status == 302 and "/accounts/login/" in headers["Location"]
    assert "X-Accel-Redirect" not in headers and body[:2] != b"\xff\xd8"
    # Plain HTTP only redirects to HTTPS.
    status, headers, _body = stack.get(f"http://127.0.0.1:{stack.ports['http']}/m/file/")
    assert status == 301 and headers["Location"].startswith("https://")


# -- scale out ----------------------------------------------------------------------------

KEYS = 30
COPIES = 3  # each key sent this many times at once, alternating between the instances


class Session:
    """A logged-in grid worker talking to one gunicorn instance directly (as nginx would,
    with X-Forwarded-Proto: https)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.headers = {"X-Forwarded-Proto": "https", "Origin": base.replace("http:", "https:")}

    def request(self, path: str, data: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        h = {**self.headers, **(headers or {})}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(self.base + path, data=data, headers=h)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            response = opener.open(request, timeout=60)
            status, body, headers_out = response.status, response.read(), response.headers
        except urllib.error.HTTPError as e:
            status, body, headers_out = e.code, e.read(), e.headers
        for value in headers_out.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return status, body

    def csrf(self, path: str) -> str:
        _status, body = self.request(path)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert match, f"no CSRF token on {path}"
        return match.group(1).decode()

    def log_in(self, username: str) -> None:
        token = self.csrf("/accounts/login/")
        content_type, body = _form(
            {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD}
        )
        status, _ = self.request("/accounts/login/", body, {"Content-Type": content_type})
        assert status == 302, f"login failed ({status})"


BOUNDARY = "----jinzhitong-stack-test"


def _form(fields: dict[str, str], photo: bytes | None = None) -> tuple[str, bytes]:
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            .encode()
        )
    if photo is not None:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photos"; '
            f'filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode() + photo + b"\r\n"
        )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return f"multipart/form-data; boundary={BOUNDARY}", b"".join(parts)


def _scale_out(stack: Stack) -> None:
    """2 gunicorn instances and 2 workers: one case per key, routed once, consecutive."""
    sessions = []
    for n in (1, 2):
        s = Session(stack.instance(n))
        s.log_in("zhangxin")
        sessions.append(s)
    tokens = [s.csrf("/m/file/") for s in sessions]
    category = stack.sql(
        "SELECT id FROM reports_category WHERE code = '0101'"  # 暴露垃圾: routed automatically
    )[0][0]
    before = stack.sql("SELECT count(*) FROM reports_report")[0][0]
    photo = _jpeg((120, 90, 60), (320, 240))
    keys = [uuid.uuid4().hex for _ in range(KEYS)]

    def submit(job: tuple[str, int]) -> tuple[str, int, dict[str, Any]]:
        key, copy = job
        n = copy % 2
        content_type, body = _form({
            "csrfmiddlewaretoken": tokens[n], "idempotency_key": key,
            "lng": str(HERE["longitude"]), "lat": str(HERE["latitude"]),
            "category": str(category), "urgency": "normal", "description": "门口垃圾堆放",
        }, photo)
        status, answer = sessions[n].request("/m/file/", body, {
            "Content-Type": content_type, "Accept": "application/json",
        })
        return key, status, json.loads(answer) if answer.startswith(b"{") else {"raw": answer[:300]}

    # The copies of one key side by side: they are in flight at the same moment.
    jobs = [(key, copy) for key in keys for copy in range(COPIES)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(submit, jobs))
    elapsed = time.monotonic() - started

    bad = [(k, s, a) for k, s, a in results if s not in (200, 201)]
    assert bad == []
    numbers: dict[str, set[str]] = {}
    for key, _status, answer in results:
        numbers.setdefault(key, set()).add(answer["number"])
    # Every copy of a key got the same case back.
    assert all(len(v) == 1 for v in numbers.values()), numbers
    rows = stack.sql(
        "SELECT idempotency_key, number, id FROM reports_report WHERE idempotency_key = ANY(%s)",
        (keys,),
    )
    assert len(rows) == KEYS and {k for k, _n, _i in rows} == set(keys)
    assert stack.sql("SELECT count(*) FROM reports_report")[0][0] == before + KEYS
    # Consecutive numbers, none twice: <district>-<date>-<seq>.
    seqs = sorted(int(n.rsplit("-", 1)[1]) for _k, n, _i in rows)
    assert seqs == list(range(seqs[0], seqs[0] + KEYS))

    # Routed exactly once each, by the two workers between them.
    ids = [i for _k, _n, i in rows]

    def routed() -> Counter[int]:
        return Counter(r for (r,) in stack.sql(
            "SELECT report_id FROM reports_reportevent WHERE kind = 'routed' "
            "AND report_id = ANY(%s)", (ids,),
        ))

    _wait_for(lambda: len(routed()) == KEYS, seconds=90, what="every case routed")
    time.sleep(3)  # a second routing, if any, would show now (the sweep runs every 2 s)
    counts = routed()
    assert set(counts) == set(ids) and set(counts.values()) == {1}
    dispatched = stack.sql(
        "SELECT count(*) FROM reports_report WHERE id = ANY(%s) AND state = 'dispatched'", (ids,)
    )[0][0]
    assert dispatched == KEYS
    served = {n: stack.log(f"web{n}").count('"POST /m/file/ HTTP') for n in (1, 2)}
    assert all(v >= KEYS for v in served.values()), served
    # Both workers took routing tasks (a worker that never started would show here).
    routing = {n: stack.log(f"worker{n}").count("Task reports.tasks.route_report[")
               for n in (1, 2)}
    assert all(routing.values()), routing
    print(f"\nscale-out: {KEYS} keys × {COPIES} copies over 2 instances in {elapsed:.1f} s; "
          f"POSTs per instance {served}; routing tasks per worker {routing}; "
          f"{KEYS} cases, each routed once")
