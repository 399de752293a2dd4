"""The request that views behind @login_required receive (its user is signed
in), and the decorator that lets only one role in."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import User
from accounts.roles import ROLE_PROPERTIES, forbidden

View = Callable[..., HttpResponse]


class SignedInRequest(HttpRequest):
    user: User


def may_be_signed_in(request: HttpRequest) -> bool:
    """Only a session signs a reader in, so a request without its cookie is a
    visitor's: middleware can tell without loading the user."""
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def role_required(role: str) -> Callable[[View], View]:
    """Visitors go to log in; signed-in users without `role` (a User property
    such as "is_author") get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: SignedInRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not getattr(request.user, role):
                raise forbidden(ROLE_PROPERTIES[role]) if role in ROLE_PROPERTIES else PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator
