"""What a shared cache in front (Varnish, a CDN) is told about a page (docs/caching.md).

A signed-out page is the same for every signed-out visitor, so it is
`public`: browsers keep it PAGE_CACHE_MAX_AGE seconds, shared caches
PAGE_CACHE_SHARED_MAX_AGE (the longest a counter may lag there), and may serve
it stale while fetching the next. It names what it shows in surrogate keys
(`post-<slug>`, `listings`, `site`) under the header the configured purger
reads, and carries an ETag, so a conditional GET is answered 304. Anything
else a page view answers (a signed-in reader, a referral visit, a message to
show, a cookie set) is `private`. Either way `Vary: Cookie`.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers, set_response_etag

# The header each purger's cache reads the keys from, and how the keys are joined.
KEY_HEADERS = {"": ("xkey", " "), "varnish": ("xkey", " "), "fastly": ("Surrogate-Key", " "),
               "cloudflare": ("Cache-Tag", ",")}  # fmt: skip


def surrogate_key(scope: str) -> str:
    """'post:<slug>' -> 'post-<slug>'; 'listings' and 'site' stay as they are."""
    return scope.replace(":", "-", 1)


def shared(request: HttpRequest, response: HttpResponse, scopes: list[str]) -> HttpResponse:
    """A signed-out page any cache may keep; a 304 when the reader's copy is current."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return private(response)
    patch_cache_control(
        response,
        public=True,
        max_age=settings.PAGE_CACHE_MAX_AGE,
        s_maxage=settings.PAGE_CACHE_SHARED_MAX_AGE,
        stale_while_revalidate=settings.PAGE_CACHE_STALE_WHILE_REVALIDATE,
    )
    patch_vary_headers(response, ["Cookie"])
    header, joiner = KEY_HEADERS[settings.PAGE_CACHE_PURGER]
    response[header] = joiner.join(surrogate_key(scope) for scope in scopes)
    if not response.has_header("ETag"):  # a hit carries its rendering's (blog/pagecache/)
        set_response_etag(response)
    return get_conditional_response(request, etag=response["ETag"], response=response) or response


def private(response: HttpResponse) -> HttpResponse:
    """Never kept by a shared cache; the browser asks again each time."""
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    return response
