"""The client's address as our own proxies saw it: the one rule the throttles and the login lockout share.

X-Forwarded-For is written by whoever sends the request; only the entries our own proxies
appended can be trusted. With NUM_PROXIES proxies in front, the client is that many entries
from the right (DRF's own rule for its throttles); with none, the header is ignored.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR") or "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    proxies = settings.NUM_PROXIES
    if not proxies or not forwarded:
        return remote
    hops = [hop.strip() for hop in str(forwarded).split(",")]
    return hops[-min(proxies, len(hops))] or remote
