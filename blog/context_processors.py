from typing import Any

from django.http import HttpRequest

from blog.shared.site import identity


def site(request: HttpRequest) -> dict[str, Any]:
    return identity()
