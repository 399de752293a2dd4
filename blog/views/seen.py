"""The page-view beacon: a 1x1 image that every counted page loads (blog/insights/pageviews.py).

A page may come from a shared cache (Varnish, a CDN) and never reach Django;
its beacon always does: it is `no-store`, and Varnish passes what Django does
not mark public. It sets no cookie; counting can fail without it failing."""

import base64
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from blog.insights import pageviews
from blog.models import Post

log = logging.getLogger(__name__)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")  # a transparent GIF


@require_safe
def post_seen(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "GET" and Post.objects.published().filter(slug=slug).exists():
        _count(request, f"post:{slug}")
    return _pixel()


@require_safe
def home_seen(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        _count(request, pageviews.HOME)
    return _pixel()


def _count(request: HttpRequest, page: str) -> None:
    try:
        pageviews.count_view(request, page)
    except Exception:
        log.exception("Page view not counted")


def _pixel() -> HttpResponse:
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"  # every load reaches Django, and counts
    return response
