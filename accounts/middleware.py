from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.requests import may_be_signed_in

# Signing in and out, setting up two-factor, and files stay open to a staff
# account that has not set it up yet.
EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/", "/healthz", "/readyz")


class StaffTwoFactorMiddleware:
    """With MFA_REQUIRED_FOR_STAFF, a staff account without an authenticator
    app is sent to set one up before it can use the admin or the site."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_set_up(request):
            messages.info(request, "Staff accounts need two-factor authentication. Set up an authenticator app first.")
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _must_set_up(request: HttpRequest) -> bool:
        if not (settings.MFA_REQUIRED_FOR_STAFF and may_be_signed_in(request)):
            return False
        user = request.user
        if not (user.is_authenticated and user.is_staff):
            return False
        if request.path.startswith(EXEMPT_PREFIXES):
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
