"""Uploaded files through the media storage, when Django serves them itself (SERVE_MEDIA; with
MEDIA_STORAGE=s3 the bucket or a CDN serves them and MEDIA_URL points there, docs/scaling.md).

Pictures are shown inline; anything else (a restored PDF or recording) is a download, never a page
of this origin that a browser might read as HTML or script (docs/security.md)."""

import mimetypes
import posixpath

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.http import http_date

from blog.shared import files

INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


def serve_media(request: HttpRequest, path: str) -> HttpResponse | FileResponse:
    name = posixpath.normpath(path).lstrip("/")
    storage = files.public_storage()
    try:
        if name.startswith("..") or not storage.exists(name):
            raise Http404("No such file.")
        modified = storage.get_modified_time(name)
    except (SuspiciousFileOperation, NotImplementedError) as error:
        raise Http404("No such file.") from error
    if request.headers.get("If-Modified-Since") == http_date(modified.timestamp()):
        return HttpResponse(status=304)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    inline = content_type in INLINE_TYPES
    response = FileResponse(
        storage.open(name, "rb"), content_type=content_type, as_attachment=not inline,
        filename="" if inline else posixpath.basename(name),
    )  # fmt: skip
    response["Last-Modified"] = http_date(modified.timestamp())
    response["Cache-Control"] = settings.MEDIA_CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    if not inline:
        response["Content-Security-Policy"] = "sandbox"
    return response
