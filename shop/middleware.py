"""Security headers of the shopper pages (/shop/): they face the public and carry personal data.

Scoped by path so it composes with a site-wide policy (django-csp): a header set here is left
alone by that middleware, and everything outside /shop/ is untouched.

Referrer-Policy is "no-referrer" on every response (the access link's redirect, photos, errors)
except the pages that carry forms: there a browser under "no-referrer" sends "Origin: null" with
every POST and no Referer, which Django's CSRF check rightly refuses. Those pages say
"same-origin": no address of ours ever reaches another site (the pages load and link nothing
from elsewhere), and a form's own origin still proves it came from us.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

PREFIX = "/shop/"


def content_security_policy(request: HttpRequest) -> str:
    # The live socket is same-origin; 'self' covers ws(s) in CSP 3, older browsers need it named.
    host = request.get_host()
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src 'self' ws://{host} wss://{host}",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


class ShopSecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(PREFIX):
            response["Content-Security-Policy"] = content_security_policy(request)
            response["X-Frame-Options"] = "DENY"
            response["Referrer-Policy"] = "same-origin" if getattr(response, "has_forms", False) else "no-referrer"
            response.headers.setdefault("Cache-Control", "no-store")
        return response
