"""`make screens`: every page each demo login reaches, at 390 and 1366 px, into docs/screens.

Not part of the normal run (pyproject's addopts deselect the ``screens`` marker, and the
test skips unless ``JZT_SCREENS=1``): the screenshots are tracked files, rewritten only on
purpose. The demo city is loaded with ``load_demo`` into the fresh test database; each login
in seeds/demo.json signs in through the login form, and every link of its navigation, its
bell, and the first case, household and situation map those pages link to are taken at
both widths. docs/screens.md is regenerated from what was taken, with the page's heading,
its horizontal overflow at 390 px and any console error beside each pair.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = [
    pytest.mark.screens,
    pytest.mark.skipif(
        os.environ.get("JZT_SCREENS") != "1", reason="screenshots are taken by `make screens`"
    ),
]

DOCS = Path(settings.BASE_DIR) / "docs"
SCREENS = DOCS / "screens"
DEMO = json.loads((Path(settings.BASE_DIR) / "seeds/demo.json").read_text(encoding="utf-8"))
WIDTHS = {390: {"width": 390, "height": 844}, 1366: {"width": 1366, "height": 768}}
# Pages reached from the navigation's pages, one of each kind (href pattern → name).
FOLLOW = [
    ("case", r"^/cases/\d+/$"),
    ("household", r"^/residents/households/\d+/$"),
    ("situation-map", r"^/residents/communities/\d+/map/$"),
]
# The admin has dozens of lists; these are the ones each administrator opens first.
ADMIN_PAGES = [
    "/admin/",
    "/admin/reports/report/",
    "/admin/grids/region/",
    "/admin/accounts/user/",
    "/admin/auth/group/add/",
    "/admin/axes/accessattempt/",
]


@dataclass
class Shot:
    name: str
    path: str
    title: str = ""
    files: dict[int, str] = field(default_factory=dict)
    overflow: int = 0
    errors: list[str] = field(default_factory=list)


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO["password"])
    page.get_by_role("button", name="登录").click()
    _settle(page)


# Navigation on any page: the main bar and the bell, the phone's bottom bar, the residents'
# and the statistics' own tabs.
NAV = ".mainnav a, a#bell, nav.bottombar a, .res-nav a, .eval-nav a"


def _settle(page: Any) -> None:
    """Wait for the page's maps and charts; a page that keeps polling is taken anyway."""
    try:
        page.wait_for_load_state("networkidle", timeout=8_000)
    except Exception:  # Playwright's TimeoutError: the shot is still useful
        page.wait_for_timeout(1_000)


def _pages(page: Any, base: str, *, admin: bool) -> list[tuple[str, str]]:
    """(name, path) of the pages this login reaches, in the order they were found: every
    navigation link of every page reached, then one page of each FOLLOW kind."""
    if admin:
        return [(_slug(p.removeprefix("/admin/")) or "admin", p) for p in ADMIN_PAGES]
    seen = [page.url.removeprefix(base)]
    follow: dict[str, str] = {}
    index = 0
    while index < len(seen):
        page.goto(f"{base}{seen[index]}")
        index += 1
        links = page.eval_on_selector_all(NAV, "els => els.map(a => a.getAttribute('href'))")
        seen += [h for h in dict.fromkeys(links) if h and h.startswith("/") and h not in seen]
        hrefs = page.eval_on_selector_all("main a", "els => els.map(a => a.getAttribute('href'))")
        for kind, pattern in FOLLOW:
            hit = next((h for h in hrefs if h and re.match(pattern, h)), None)
            if hit and kind not in follow:
                follow[kind] = hit
    return [(_slug(p), p) for p in seen] + list(follow.items())


def _take(browser: Any, base: str, username: str, *, admin: bool) -> list[Shot]:
    shots: list[Shot] = []
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error":
            errors.append(message.text)

    for width, viewport in WIDTHS.items():
        mobile = width < 500
        context = browser.new_context(
            viewport=viewport, locale="zh-CN", is_mobile=mobile, has_touch=mobile,
            device_scale_factor=1,
        )
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.on("console", console)
        _log_in(page, base, username)
        if not shots:
            shots = [Shot(name, path) for name, path in _pages(page, base, admin=admin)]
        for shot in shots:
            errors.clear()
            page.goto(f"{base}{shot.path}")
            _settle(page)
            file = f"{username}-{shot.name}-{width}.png"
            page.screenshot(path=str(SCREENS / file), full_page=True)
            shot.files[width] = file
            heading = page.locator("h1").first
            shot.title = shot.title or (heading.inner_text() if heading.count() else "")
            if mobile:
                shot.overflow = page.evaluate(
                    "document.documentElement.scrollWidth - window.innerWidth"
                )
            if mobile:
                shot.errors += errors
        context.close()
    return shots


def _markdown(taken: list[tuple[dict[str, Any], list[Shot]]]) -> str:
    lines = [
        "# Screens",
        "",
        "Made by `make screens` (tests/e2e/test_screens.py) on the demo city (`load_demo` into",
        "a fresh database): every demo login signs in through the login form, and every page",
        "its navigation and bell reach, with the first case, household and situation map",
        "those pages link to, is taken full-page at 390 px and 1366 px. Do not edit by hand:",
        "run `make screens` again. \"overflow\" is how far the 390 px page scrolls sideways.",
        "Full-page shots draw the phone's fixed bottom bar where the first screen ends.",
        "",
    ]
    for spec, shots in taken:
        lines += [
            f"## {spec['full_name']} (`{spec['username']}`, {spec['role']})",
            "",
            "| page | 390 px | 1366 px |",
            "|---|---|---|",
        ]
        for s in shots:
            notes = [f"`{s.path}`"]
            if s.overflow > 0:
                notes.append(f"overflow {s.overflow} px")
            seen: dict[str, int] = {}
            for e in s.errors:
                seen[e[:80]] = seen.get(e[:80], 0) + 1
            notes += [f"console ({n}×): {e}" for e, n in seen.items()]
            cells = [
                f"![{s.name} {w}](screens/{s.files[w]})" if w in s.files else "—" for w in WIDTHS
            ]
            title = s.title.replace("|", "/").replace("\n", " ")
            lines.append(f"| {title}<br>{'<br>'.join(notes)} | {' | '.join(cells)} |")
        lines.append("")
    return "\n".join(lines)


def test_screens_of_every_demo_login(browser: Any, live_server: Any) -> None:
    call_command("load_demo", "--quiet-logins", stdout=StringIO())
    SCREENS.mkdir(parents=True, exist_ok=True)
    for old in SCREENS.glob("*.png"):
        old.unlink()
    taken = []
    for spec in DEMO["users"]:
        admin = bool(spec.get("superuser")) or spec["role"] == "admin"
        taken.append((spec, _take(browser, live_server.url, spec["username"], admin=admin)))
    (DOCS / "screens.md").write_text(_markdown(taken), encoding="utf-8")
    assert all(shot.files for _, shots in taken for shot in shots)
