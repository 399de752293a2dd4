from typing import Any

from django.http import HttpRequest

from blog.site import identity


def site(request: HttpRequest) -> dict[str, Any]:
    return identity()
