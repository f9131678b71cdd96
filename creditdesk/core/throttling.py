from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module (its default classes)
    from rest_framework.views import APIView


def _rate_or_none(rate: str) -> str | None:
    return None if rate.strip().lower() in {"", "off", "none", "0"} else rate


class ApiUserRateThrottle(UserRateThrottle):
    """General per-user limit from API_RATE_LIMIT; 'off' disables it (metering must never be slowed)."""

    scope = "api_user"

    def get_rate(self) -> str | None:
        return _rate_or_none(settings.API_RATE_LIMIT)

    def get_cache_key(self, request: Request, view: "APIView") -> str | None:
        # A service's API key has no user id: it counts under its own ident, one bucket per key.
        ident = getattr(request.user, "throttle_ident", None)
        if ident:
            return self.cache_format % {"scope": self.scope, "ident": ident}
        return super().get_cache_key(request, view)


class LoginIPThrottle(SimpleRateThrottle):
    scope = "login_ip"

    def get_rate(self) -> str | None:
        return _rate_or_none(settings.LOGIN_RATE_LIMIT)

    def get_cache_key(self, request: Request, view: "APIView") -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
