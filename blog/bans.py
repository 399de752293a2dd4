"""Who is barred, and what they are told.

A ban names a reader: their account and their e-mail address, normalised so
that `Rosa+spam@Gmail.com` and `r.o.s.a@googlemail.com` are one person, and
kept when the account is deleted. An IP ban is a separate, explicit and
short choice (a whole office or carrier shares an address). A ban stops
commenting, flagging, liking, re-stacking, profile changes and subscribing;
each of those asks `refusal()`. Nobody is shown another person's reason:
the reader's own ban says why, an address's ban says only that taking part
from here is paused. Moderators' changes to bans are in blog/moderation.py.
"""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from accounts.models import User
from blog.models import Ban
from blog.models.comments import email_key

ADDRESS_PAUSED = "Taking part from your network is paused for a while. Please try again later."


def _matching(user: User | AnonymousUser, ip: str | None, email: str) -> list[Ban]:
    """Active bans of this reader (by account, or their or the given address) and
    of their IP address, in one query: every like and flag asks."""
    keys = {email_key(address) for address in (email, getattr(user, "email", "")) if address} - {""}
    match = Q(email_key__in=keys) if keys else Q(pk__in=[])
    if user.is_authenticated:
        match |= Q(user=user)
    if ip:
        match |= Q(ip=ip, user__isnull=True, handle="", email_key="")
    return list(Ban.objects.active().filter(match).order_by("-created_at")[:20])


def refusal(user: User | AnonymousUser, ip: str | None, *, email: str = "") -> str | None:
    """Why this reader may not take part right now, or None.

    The reason of a reader's own ban is theirs to read; an address's ban
    tells nobody anybody's reason, and does not hold back moderators."""
    found = _matching(user, ip, email)
    if own := next((ban for ban in found if not ban.is_ip_ban), None):
        reason = own.reason.strip()
        return f"You can't take part here at the moment. {reason[:1].upper()}{reason[1:]}"
    if any(ban.is_ip_ban for ban in found) and not user.has_perm("blog.moderate_comment"):
        return ADDRESS_PAUSED
    return None


def profile_refusal(user: User, ip: str | None) -> str | None:
    """accounts.guards asks this before a profile change (name, bio, avatar)."""
    return refusal(user, ip)
