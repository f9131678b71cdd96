"""/api/docs/ is Swagger UI served from our own origin: no CDN, no third-party script on our pages."""

import re

import pytest
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_docs_page_references_no_external_host(api_client: APIClient) -> None:
    response = api_client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+", html) == []
    assets = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    # Our static files, and the page's own init script (/api/docs/?script=): all on our origin.
    assert all(asset.startswith(("/static/", "/api/docs/")) for asset in assets)


def test_every_asset_the_docs_page_loads_is_one_of_our_static_files(api_client: APIClient) -> None:
    html = api_client.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="/static/([^"#?]+)"', html)

    assert len(assets) >= 3
    missing = [asset for asset in assets if finders.find(asset) is None]
    assert missing == []


def test_the_docs_page_has_no_inline_script_so_a_strict_content_security_policy_can_allow_it(
    api_client: APIClient,
) -> None:
    html = api_client.get("/api/docs/").content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    assert all("src=" in attributes and not body.strip() for attributes, body in scripts)
    init = next(attributes for attributes, _ in scripts if "script" in attributes.split("src=")[1])
    init_url = re.search(r'src="([^"]+)"', init).group(1)  # type: ignore[union-attr]
    response = api_client.get(init_url)
    assert response.status_code == 200 and "SwaggerUIBundle" in response.content.decode()
    assert re.findall(r"https?://", response.content.decode()) == []


def test_the_docs_page_is_under_the_strict_content_security_policy(api_client: APIClient) -> None:
    """Chromium renders Swagger UI under this policy with no violation (checked by hand with Playwright)."""
    policy = api_client.get("/api/docs/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
