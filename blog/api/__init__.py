"""Dispatch's HTTP API at /api/v1/ (django-ninja): reading is open to all,
writing needs a key with the right scope. The contract is docs/api.md."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from blog.api import write  # noqa: F401  (adds the write operations to the router)
from blog.api.access import SharedCacheThrottle
from blog.api.read import router

api = NinjaAPI(
    title="Dispatch API",
    version="1",
    description="Published posts, tags, authors and comments; writing with an API key. See docs/api.md.",
    urls_namespace="api",
    throttle=[SharedCacheThrottle()],
)


@api.exception_handler(AuthenticationError)
def needs_key(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": "This needs an API key (Authorization: Bearer dsp_...)."}, status=401
    )


api.add_router("/", router)
