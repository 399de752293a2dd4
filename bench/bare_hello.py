"""A bare Django "hello": no middleware, no database, no template. The floor
that bench/search.py compares Dispatch with, on the same gunicorn.

    gunicorn bench.bare_hello:application
"""

import secrets

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import re_path

settings.configure(
    DEBUG=False,
    SECRET_KEY=secrets.token_urlsafe(50),
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello, world.", content_type="text/plain")


urlpatterns = [re_path(r"", hello)]
application = get_wsgi_application()
