"""Bare Django: one view, no middleware, no database, no template.

The floor every page is measured against, served by the same gunicorn with
the same options in the same run (`gunicorn bench.hello:application`). It is
not part of the site and shares nothing with config/.
"""

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-hello-not-a-secret-" + "x" * 40,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello, world.\n", content_type="text/plain")


urlpatterns = [path("", hello)]

django.setup()
application = get_wsgi_application()
