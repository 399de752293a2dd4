"""How ActivityPub documents are answered, and when a request asks for one.

A request asks for ActivityPub JSON only when every type in its Accept
header is a JSON type (a browser's `*/*` never is): answering JSON to a
mixed Accept is how pages got stuck as JSON in shared caches. Both kinds of
answer on a negotiated URL say `Vary: Accept`."""

from typing import Any

from django.http import JsonResponse
from django.utils.cache import patch_vary_headers

from blog.federation import actors
from blog.federation.actors import CONTEXT
from blog.models import Post

ACTIVITY_JSON = "application/activity+json"
JSON_TYPES = {"application/activity+json", "application/ld+json", "application/json"}


def wants_activity_json(accept: str) -> bool:
    types = [part.split(";", 1)[0].strip().lower() for part in accept.split(",") if part.strip()]
    return bool(types) and all(kind in JSON_TYPES for kind in types)


def activity_response(document: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(document, status=status, content_type=ACTIVITY_JSON)
    response["Cache-Control"] = "public, max-age=60"
    patch_vary_headers(response, ["Accept"])
    return response


def article_response(post: Post) -> JsonResponse:
    return activity_response({"@context": CONTEXT, **actors.article(post)})
