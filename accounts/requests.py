"""The request that views behind @login_required receive: its user is signed in."""

from django.http import HttpRequest

from accounts.models import User


class SignedInRequest(HttpRequest):
    user: User
