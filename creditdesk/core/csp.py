"""The Content-Security-Policy: the settings' policy everywhere, inline styles only where they are needed."""

from csp.middleware import CSPMiddleware
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# Django's admin templates and Swagger UI write `style="..."` attributes into their HTML. The front end needs
# no inline style (React's style props go through the CSSOM, which style-src does not govern), so a style
# an attacker manages to inject into its pages is refused.
INLINE_STYLE_PATHS = ("/admin/", "/api/docs/")


class PathAwareCSPMiddleware(CSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path.startswith(INLINE_STYLE_PATHS) and not hasattr(response, "_csp_update"):
            response._csp_update = {"style-src": ["'unsafe-inline'"]}  # type: ignore[attr-defined]
        return super().process_response(request, response)
