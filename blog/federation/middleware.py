"""Content negotiation on a post's own URL: ActivityPub JSON or the page.

Outside every cache: a request that asks only for JSON types gets the
Article and never reaches the page cache, so the HTML cache can never hold
or serve JSON, and both answers say `Vary: Accept` for shared caches."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers

from blog.federation.responses import article_response, wants_activity_json
from blog.models import Post


class ActivityJsonMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or not request.path_info.startswith("/p/"):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if match.view_name != "blog:post_detail":
            return self.get_response(request)
        response: HttpResponse | None = None
        if wants_activity_json(request.headers.get("Accept", "")):
            post = Post.objects.published().select_related("author").filter(slug=match.kwargs["slug"]).first()
            response = article_response(post) if post else None
        if response is None:
            response = self.get_response(request)
        patch_vary_headers(response, ["Accept"])
        return response
