import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from blog import pageviews

log = logging.getLogger(__name__)


class PageViewMiddleware:
    """Counts reader views of posts and the home page (blog/pageviews.py).

    It runs around the view, so a page served from a cache inside the view is
    counted like any other; counting can fail without the page failing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.resolver_match is None:  # answered before URL resolution, e.g. by a cache middleware
            try:
                request.resolver_match = resolve(request.path_info)
            except Resolver404:
                return response
        try:
            pageviews.count_view(request, response)
        except Exception:
            log.exception("Page view not counted")
        return response
