"""Site-wide middleware: 301s from the old addresses of imported posts (WordPress,
Ghost), and the site's time zone (blog/sitesettings.py). Page views are counted
by the pages' beacon (blog/views/seen.py)."""

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.utils import timezone

from blog import sitesettings
from blog.models import LegacyPath


class LegacyRedirectMiddleware:
    """Like django.contrib.redirects: only a page that would be a 404 is looked up,
    except WordPress's `/?p=N`, whose path is the home page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/" and request.GET.get("p", "").isdigit():
            redirect = self._redirect(f"/?p={request.GET['p']}")
            if redirect:
                return redirect
        response = self.get_response(request)
        if response.status_code == 404 and request.method in ("GET", "HEAD"):
            path = request.path if request.path.endswith("/") else request.path + "/"
            return self._redirect(path) or response
        return response

    def _redirect(self, path: str) -> HttpResponse | None:
        legacy = LegacyPath.objects.select_related("post").filter(path=path).first()
        if legacy is None:
            return None
        return HttpResponsePermanentRedirect(legacy.post.get_absolute_url())


class SiteTimeZoneMiddleware:
    """Times are shown and entered in the publication's time zone (site settings)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            zone = sitesettings.current().time_zone
        except Exception:
            # The database is down: the view meets the failure and reports it
            # (the health check answers 503 by itself), so not here.
            zone = settings.TIME_ZONE
        timezone.activate(zoneinfo.ZoneInfo(zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
