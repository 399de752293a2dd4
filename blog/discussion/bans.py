"""Who is barred, and what they are told.

A ban names a reader: their account and their e-mail address, normalised so
that `Rosa+spam@Gmail.com` and `r.o.s.a@googlemail.com` are one person, and
kept when the account is deleted. An IP ban is a separate, explicit and
short choice (a whole office or carrier shares an address). A ban stops
commenting, flagging, liking, re-stacking, profile changes and subscribing;
each of those asks `refusal()`. Nobody is shown another person's reason:
the reader's own ban says why, an address's ban says only that taking part
from here is paused. Moderators' changes to bans are in blog/discussion/moderation.py.
"""

from datetime import datetime
from functools import cache
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Exists, Q, Subquery, Value
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime

from accounts.models import User
from blog.models import Ban
from blog.models.comments import email_key
from blog.shared.sqlnames import spelled

ADDRESS_PAUSED = "Taking part from your network is paused for a while. Please try again later."


def _own(user: User | AnonymousUser, email: str) -> Q:
    """The reader's own bans: by account, or by their or the given address."""
    keys = {email_key(address) for address in (email, getattr(user, "email", "")) if address} - {""}
    match = Q(email_key__in=keys) if keys else Q(pk__in=[])
    if user.is_authenticated:
        match |= Q(user=user)
    return match


def _address(ip: str) -> Q:
    return Q(ip=ip, user__isnull=True, handle="", email_key="")


def _matching(user: User | AnonymousUser, ip: str | None, email: str) -> list[Ban]:
    """Active bans of this reader (by account, or their or the given address) and
    of their IP address, in one query: every flag and comment asks."""
    match = _own(user, email)
    if ip:
        match |= _address(ip)
    return list(Ban.objects.active().filter(match).order_by("-created_at")[:20])


def _refusal(
    user: User | AnonymousUser, own_reason: str | None, address_banned: bool, until: datetime | None = None
) -> str | None:
    """The reason of a reader's own ban, and when it ends, are theirs to read;
    an address's ban tells nobody anybody's reason, and does not hold back moderators."""
    if own_reason is not None:
        reason = own_reason.strip()
        when = f"until {date_format(localtime(until), 'j F Y, H:i T')}" if until else "at the moment"
        return f"You can't take part here {when}. {reason[:1].upper()}{reason[1:]}"
    if address_banned and not user.has_perm("blog.moderate_comment"):
        return ADDRESS_PAUSED
    return None


def refusal(user: User | AnonymousUser, ip: str | None, *, email: str = "") -> str | None:
    """Why this reader may not take part right now, or None."""
    found = _matching(user, ip, email)
    own = next((ban for ban in found if not ban.is_ip_ban), None)
    until = own.until if own else None
    return _refusal(user, own.reason if own else None, any(ban.is_ip_ban for ban in found), until)


def ban_state_annotations(user: User, ip: str | None) -> dict[str, Subquery | Exists | Value]:
    """This signed-in reader's bans as two annotations (own_ban_reason, address_banned)
    on the query that loads what they act on: `_own` and `_address`, through the ORM.
    `ban_state_columns` below is its twin in SQL (tests/blog/test_sql_twins.py)."""
    own = Ban.objects.active().filter(_own(user, "")).order_by("-created_at").values("reason")[:1]
    address = Exists(Ban.objects.active().filter(_address(ip))) if ip else Value(False)
    return {"own_ban_reason": Subquery(own), "address_banned": address}


# The twin of `ban_state_annotations`, written out for the statements that load
# what a reader likes or sees (blog/discussion/engagement.py, blog/discussion/readerstate.py): the ORM took
# longer to build these two subqueries (about 5 ms) than PostgreSQL takes to run
# the whole statement (bench/likes.py). A reader without an e-mail key passes
# NULL, which matches nothing.
_OWN_BAN_REASON = """SELECT {ban.reason} FROM {ban}
WHERE {ban.lifted_at} IS NULL AND ({ban.until} IS NULL OR {ban.until} > %(ban_now)s)
AND ({ban.user} = %(user)s OR {ban.email_key} = %(ban_email)s)
ORDER BY {ban.created_at} DESC LIMIT 1"""
_ADDRESS_BANNED = """EXISTS(SELECT 1 FROM {ban}
WHERE {ban.lifted_at} IS NULL AND ({ban.until} IS NULL OR {ban.until} > %(ban_now)s) AND {ban.ip} = %(ban_ip)s
AND {ban.user} IS NULL AND {ban.handle} = '' AND {ban.email_key} = '')"""


def ban_state_columns(user: User, ip: str | None) -> tuple[str, dict[str, Any]]:
    """This signed-in reader's bans as two columns (own_ban_reason, address_banned)
    to select in the statement that loads what they act on, with its named
    parameters (`user` among them): a like asks no query of its own (see `refusal_of`)."""
    now = Ban._meta.get_field("until").get_db_prep_value(timezone.now(), connection)
    params = {"ban_now": now, "user": user.pk, "ban_email": email_key(user.email) or None}
    address = "FALSE"
    if ip:
        params["ban_ip"] = Ban._meta.get_field("ip").get_db_prep_value(ip, connection)
        address = _spelled(_ADDRESS_BANNED)
    return f"({_spelled(_OWN_BAN_REASON)}) AS own_ban_reason, {address} AS address_banned", params


@cache
def _spelled(sql: str) -> str:
    return spelled(sql, ban=Ban)


def refused(user: User | AnonymousUser, *, own_ban_reason: str | None, address_banned: bool) -> bool:
    """Whether `refusal()` refuses, from the two columns `ban_state_columns()` selects."""
    return _refusal(user, own_ban_reason, address_banned) is not None


def refusal_of(row: Any, user: User | AnonymousUser) -> str | None:
    """Whether `refusal()` refuses, for a row loaded with `ban_state_columns()`
    for this reader (its message lacks the ban's end: ask `refusal()` for that)."""
    return _refusal(user, row.own_ban_reason, row.address_banned)


def profile_refusal(user: User, ip: str | None) -> str | None:
    """accounts.guards asks this before a profile change (name, bio, avatar)."""
    return refusal(user, ip)
