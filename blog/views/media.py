"""Uploaded files, when Django serves MEDIA_ROOT itself (SERVE_MEDIA; a proxy does in production,
configured the same way in docs/deployment.md).

Pictures are shown inline; anything else (a restored PDF or recording) is a download, never a page
of this origin that a browser might read as HTML or script (docs/security.md)."""

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.views.static import serve

INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


def serve_media(request: HttpRequest, path: str) -> HttpResponse | FileResponse:
    response = serve(request, path, document_root=str(settings.MEDIA_ROOT))
    response["X-Content-Type-Options"] = "nosniff"
    if response.get("Content-Type", "").split(";")[0] not in INLINE_TYPES:
        named = response.get("Content-Disposition", "").partition(";")[2]  # FileResponse's filename
        response["Content-Disposition"] = f"attachment;{named}" if named else "attachment"
        response["Content-Security-Policy"] = "sandbox"
    return response
