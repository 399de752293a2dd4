"""Cross-site forgery refused by where a POST comes from, not by a token.

The like and subscribe forms sit on pages a shared cache serves to every
signed-out reader alike, so those pages carry no CSRF token. Their endpoints
instead check the headers every current browser sends with a POST
(docs/caching.md):

- `Sec-Fetch-Site: same-origin` or `none` (typed, bookmarked) passes;
  `same-site` or `cross-site` is refused.
- Without it, `Origin` must be this site (`scheme://host`) or one of
  CSRF_TRUSTED_ORIGINS; `Origin: null` (sandboxed frames, privacy redirects)
  is refused.
- Neither header (an old browser, a script, curl): a signed-out request
  passes, as Go's CrossOriginProtection does, since a browser that sends
  neither cannot be steered cross-site by a page (all current browsers send
  Origin on POST) and nothing of a reader is at stake: a like by a signed-out
  visitor only asks them to sign in, a subscription waits for the address's
  owner to confirm. A request that carries a session must also pass Django's
  CSRF token check, which the signed-in pages (never shared) still carry.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
REFUSED = "Refused: this form was sent from another site."

View = Callable[..., HttpResponse]


def is_same_origin(request: HttpRequest) -> bool | None:
    """True from this site, False from another, None when the browser said nothing."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    return origin != "null" and origin in (f"{request.scheme}://{request.get_host()}", *settings.CSRF_TRUSTED_ORIGINS)


def _token_refusal(request: HttpRequest) -> HttpResponse | None:
    """Django's own CSRF token check, for a signed-in request whose origin is unknown."""
    middleware = CsrfViewMiddleware(lambda _request: HttpResponse())
    return middleware.process_view(request, lambda _request: HttpResponse(), (), {})


def same_origin_only(view: View) -> View:
    """Refuse a POST sent from another site (see the module's docstring)."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            same = is_same_origin(request)
            if same is False:
                return HttpResponseForbidden(REFUSED)
            if same is None and settings.SESSION_COOKIE_NAME in request.COOKIES:
                refusal = _token_refusal(request)
                if refusal is not None:
                    return refusal
        return view(request, *args, **kwargs)

    return wrapper
