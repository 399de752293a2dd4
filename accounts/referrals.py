"""Crediting readers whose shares bring new people.

The post page stores the referrer in the visitor's session (REFERRAL_SESSION_KEY);
a sign-up, and later a subscription, made in that session is credited to them."""

from typing import Any

from django.http import HttpRequest

from accounts.models import User

REFERRAL_SESSION_KEY = "referral_user_id"


def referrer_for(request: HttpRequest) -> User | None:
    user_id = request.session.get(REFERRAL_SESSION_KEY)
    return User.objects.filter(pk=user_id, is_active=True).first() if user_id else None


def credit_signup(sender: object, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """allauth's user_signed_up signal."""
    if request is None:
        return
    referrer = referrer_for(request)
    if referrer and referrer.pk != user.pk:
        User.objects.filter(pk=user.pk).update(referred_by=referrer)
