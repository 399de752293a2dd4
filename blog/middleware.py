"""Site-wide middleware: 301s from the old addresses of imported posts (WordPress,
Ghost), and the time zone a request is shown in (the signed-in reader's, else the
publication's). Page views are counted by the pages' beacon (blog/views/seen.py)."""

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.utils import timezone

from accounts import timezones
from accounts.requests import may_be_signed_in
from blog.models import LegacyPath
from blog.shared import sitesettings


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


class TimeZoneMiddleware:
    """Times are shown, and schedules read, in the signed-in reader's own zone
    (accounts/timezones.py); everyone else sees the publication's zone (site
    settings). One middleware, so a request activates one zone once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.activate(_site_zone())
        try:
            user = request.user if may_be_signed_in(request) else None
            if user is not None and user.is_authenticated and user.time_zone:
                # An unknown name falls back to the site's zone, the one just activated.
                timezone.activate(timezones.zone_of(user.time_zone))
            return self.get_response(request)
        finally:
            timezone.deactivate()  # the thread's next request starts from the default


def _site_zone() -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(sitesettings.current().time_zone)
    except Exception:
        # The database is down: the view meets the failure and reports it
        # (the health check answers 503 by itself), so not here.
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)
