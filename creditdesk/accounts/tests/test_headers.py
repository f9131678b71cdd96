"""Headers of token responses, the SPA and the admin (issue 10, item 12)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from creditdesk.accounts.models import User
from creditdesk.conftest import PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> None:
    cache.clear()


def test_every_response_that_carries_tokens_is_never_stored(api_client: APIClient, owner: User) -> None:
    register = api_client.post(
        "/api/v1/auth/register/",
        {"email": "a@b.io", "password": "a-long-passphrase-9", "account_name": "B"},
        format="json",
    )
    login = api_client.post(
        "/api/v1/auth/login/", {"email": owner.email, "password": PASSWORD}, format="json"
    )
    tokens = login.json()["data"]
    refresh = api_client.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.json()['data']['access']}")
    change = signed_in.post(
        "/api/v1/auth/password/change/",
        {"current_password": PASSWORD, "new_password": "a-brand-new-passphrase-7"},
        format="json",
    )
    for response in (register, login, refresh, change):
        assert response.status_code in (200, 201)
        assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/", "/account/billing", "/admin/login/"])
def test_the_spa_and_the_admin_send_a_content_security_policy(path: str) -> None:
    policy = Client().get(path)["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in (p.strip() for p in policy.split(";")) if part
    )
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no inline script, no CDN
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    # Inline styles only where Django's admin templates need them; the front end's pages refuse them.
    expected_styles = ["'self'", "'unsafe-inline'"] if path.startswith("/admin/") else ["'self'"]
    assert directives["style-src"] == expected_styles


def settings_seen_with(env: dict[str, str]) -> dict:
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'ssl_header': settings.SECURE_PROXY_SSL_HEADER}))"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "x" * 50,
        "DEBUG": "0",
        **env,
    }
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_x_forwarded_proto_is_trusted_only_behind_a_counted_proxy() -> None:
    assert settings_seen_with({"NUM_PROXIES": "0"})["ssl_header"] is None
    assert settings_seen_with({"NUM_PROXIES": "1"})["ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
