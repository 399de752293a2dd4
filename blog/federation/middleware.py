"""Content negotiation on a post's own URL: ActivityPub JSON or the page.

Outside every cache: a request that asks only for JSON types gets the
Article and never reaches the page cache, so the HTML cache can never hold
or serve JSON, and both answers say `Vary: Accept` for shared caches.

The Accept header is read first: a page asked for as HTML (nearly every
request) costs no URL resolving here; the handler's own match says whether
it was a post's page."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils.cache import patch_vary_headers

from blog.federation.responses import article_response, wants_activity_json
from blog.models import Post

POST_VIEW = "blog:post_detail"


class ActivityJsonMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or not request.path_info.startswith("/p/"):
            return self.get_response(request)
        response: HttpResponse | None = None
        if wants_activity_json(request.META.get("HTTP_ACCEPT", "")):
            match = _match(request.path_info)
            if match is not None and match.view_name == POST_VIEW:
                post = Post.objects.published().select_related("author").filter(slug=match.kwargs["slug"]).first()
                response = article_response(post) if post else None
        if response is None:
            response = self.get_response(request)
            # A middleware that answered before any view ran leaves no match behind.
            match = request.resolver_match or _match(request.path_info)
            if match is None or match.view_name != POST_VIEW:
                return response
        patch_vary_headers(response, ["Accept"])
        return response


def _match(path: str) -> ResolverMatch | None:
    try:
        return resolve(path)
    except Resolver404:
        return None
