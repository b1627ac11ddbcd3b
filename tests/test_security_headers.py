"""Every page sends a Content-Security-Policy that forbids inline script and style."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from tests.conftest import City


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/"])
def test_it_sends_the_policy_to_anonymous_visitors(client: Client, db: None, path: str) -> None:
    policy = client.get(path)["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "object-src 'none'" in policy


@pytest.mark.parametrize(
    "path", ["/work/grid_worker/", "/admin/", "/admin/grids/region/"]
)
def test_it_sends_the_policy_on_signed_in_pages(
    client: Client, worker: User, admin_user: User, path: str
) -> None:
    client.force_login(admin_user if path.startswith("/admin/") else worker)

    response = client.get(path)

    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_it_serves_no_inline_script_in_the_boundary_editor(
    client: Client, city: City, admin_user: User
) -> None:
    client.force_login(admin_user)

    page = client.get(f"/admin/grids/region/{city.grid.pk}/change/").content.decode()

    scripts = page.split("<script")[1:]
    assert scripts  # Leaflet, the editor and json_script data are there
    for tag in scripts:
        opening = tag.split(">", 1)[0]
        assert "src=" in opening or 'type="application/json"' in opening
    assert " onerror=" not in page and " onclick=" not in page and "<style" not in page
