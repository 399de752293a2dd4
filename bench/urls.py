"""The site, plus an authenticated trivial view to measure the like against:
the same middleware, session and user lookup, and nothing else."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as site


def whoami(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.user.get_username(), content_type="text/plain")


urlpatterns = [path("bench/whoami", whoami), *site]
