"""Static files as production collects them: the manifest storage, hashed and compressed.

The test settings serve static files unhashed (plain StaticFilesStorage), so nothing else in
the suite notices when `collectstatic` with the production storage breaks — as it did when
two vendored scripts pointed at source maps that were never vendored: no manifest was
written and every page that uses ``{% static %}`` answered 500 while /healthz said 200.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.templatetags.static import static
from django.test import override_settings

from reports.views.phone import OFFLINE_ASSETS

PRODUCTION_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
BASE = Path(settings.BASE_DIR)
# {% static 'x' %} / {% static "x" %} in templates, static("x") / "vendor/..." in Python.
TEMPLATE_REF = re.compile(r"""{%\s*static\s+['"]([^'"]+)['"]\s*%}""")


def _production_storages() -> dict[str, dict[str, str]]:
    return {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`collectstatic` with the production storage into a fresh folder (once per module)."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=root, STORAGES=_production_storages()):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


def _manifest(root: Path) -> dict[str, str]:
    data = json.loads((root / "staticfiles.json").read_text())
    return data["paths"]


def test_collectstatic_with_the_production_storage_writes_a_manifest(collected: Path) -> None:
    paths = _manifest(collected)
    assert "css/base.css" in paths
    hashed = paths["vendor/leaflet-1.9.4/leaflet.js"]
    assert re.fullmatch(r"vendor/leaflet-1\.9\.4/leaflet\.[0-9a-f]{12}\.js", hashed)
    # Precompressed beside the original, for whitenoise and nginx's gzip_static.
    assert (collected / (hashed + ".gz")).is_file()
    # Every source map a vendored script names is there (the reference is rewritten).
    assert "vendor/leaflet.markercluster-1.5.3/leaflet.markercluster.js.map" in paths
    assert "vendor/browser-image-compression-2.0.2/browser-image-compression.js.map" in paths


def test_leaflet_is_vendored_and_axe_is_not_served(collected: Path) -> None:
    paths = _manifest(collected)
    for name in (
        "vendor/leaflet-1.9.4/leaflet.css",
        "vendor/leaflet-1.9.4/LICENSE",
        "vendor/leaflet-draw-1.0.4/leaflet.draw.js",
        "vendor/leaflet-draw-1.0.4/LICENSE",
    ):
        assert name in paths, name
    # Nothing from django-leaflet's package folder, and no test asset.
    assert not any(p.startswith("leaflet/") for p in paths)
    assert not any("axe" in p for p in paths)


def test_every_static_reference_is_in_the_manifest(collected: Path) -> None:
    """A template naming a file that is not collected answers 500 in production only."""
    paths = _manifest(collected)
    refs: set[str] = set()
    for template in (BASE / "templates").rglob("*.html"):
        refs.update(TEMPLATE_REF.findall(template.read_text(encoding="utf-8")))
    refs.update(OFFLINE_ASSETS)
    from grids.widgets import BoundaryMapWidget

    media = BoundaryMapWidget().media
    refs.update(media._js)
    refs.update(p for group in media._css.values() for p in group)
    assert len(refs) > 20
    missing = sorted(r for r in refs if r not in paths)
    assert missing == []


def test_pages_render_with_hashed_names_from_the_manifest(collected: Path, client) -> None:
    with override_settings(STATIC_ROOT=collected, STORAGES=_production_storages()):
        response = client.get("/accounts/login/")
        assert response.status_code == 200
        html = response.content.decode()
        assert static("css/base.css") in html
        assert re.search(r"/static/css/base\.[0-9a-f]{12}\.css", html)
