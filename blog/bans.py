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


def own_ban(user: User | AnonymousUser, email: str = "") -> Ban | None:
    """An active ban of this reader: by account, or by their (or the given) address."""
    keys = {email_key(address) for address in (email, getattr(user, "email", "")) if address} - {""}
    match = Q(email_key__in=keys) if keys else Q(pk__in=[])
    if user.is_authenticated:
        match |= Q(user=user)
    return Ban.objects.active().filter(match).order_by("-created_at").first()


def address_ban(ip: str | None, user: User | AnonymousUser) -> Ban | None:
    """An active IP ban on `ip`. Moderators are not held back by one."""
    if not ip or (user.is_authenticated and user.has_perm("blog.moderate_comment")):
        return None
    return Ban.objects.active().filter(ip=ip, user__isnull=True, handle="", email_key="").first()


def refusal(user: User | AnonymousUser, ip: str | None, *, email: str = "") -> str | None:
    """Why this reader may not take part right now, or None.

    The reason of a reader's own ban is theirs to read; an address's ban
    tells nobody anybody's reason."""
    if ban := own_ban(user, email):
        return f"You can't take part here at the moment. {ban.reason.strip().capitalize()}"
    if address_ban(ip, user):
        return ADDRESS_PAUSED
    return None


def profile_refusal(user: User, ip: str | None) -> str | None:
    """accounts.guards asks this before a profile change (name, bio, avatar)."""
    return refusal(user, ip)
