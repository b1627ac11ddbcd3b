"""Browsers ask for /favicon.ico on every page, the admin's included."""

from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from PIL import Image


def test_favicon_ico_leads_to_a_real_icon(client: Client, db: None) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.ico"
    path = finders.find("favicon.ico")
    assert path is not None
    with Image.open(path) as icon:
        assert icon.format == "ICO"


def test_pages_name_the_icon(client: Client, db: None) -> None:
    page = client.get(reverse("accounts:login")).content.decode()

    assert '<link rel="icon" href="/static/favicon.ico"' in page
