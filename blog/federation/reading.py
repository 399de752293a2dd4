"""A reader here following publications elsewhere: follow and unfollow, the
posts they send, and liking, boosting and replying to them from this site.

Every action is an activity signed as the reader (their actor exists once
they follow someone) and delivered like any other (blog/federation/outbox.py),
to the remote actor's shared inbox. A banned reader federates nothing."""

import json
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from blog.discussion import bans
from blog.federation import actors, network, outbox
from blog.federation.actors import CONTEXT, PUBLIC, LocalActor
from blog.models import Following, OutboundActivity, ReceivedArticle, RemoteActor
from blog.shared.rendering import render_markdown

MAX_REPLY = 5000


class ReadingRefused(Exception):
    """Nothing was sent; the message tells the reader why."""


def _check(user: User) -> None:
    if refusal := bans.refusal(user, None):
        raise ReadingRefused(refusal)


def lookup(address: str) -> RemoteActor:
    """@name@host (or an actor's URL) -> the remote actor, through WebFinger."""
    address = address.strip()
    if address.startswith(("https://", "http://")):
        return actors.fetch_remote(address)
    name, _, host = address.removeprefix("@").partition("@")
    if not name or not host or "/" in host:
        raise ReadingRefused("Enter an address such as @publication@example.com.")
    scheme = "http" if settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES else "https"
    url = f"{scheme}://{host}/.well-known/webfinger?resource={quote(f'acct:{name}@{host}')}"
    try:
        answer = network.request("GET", url, {"Accept": "application/jrd+json, application/json"})
        links = json.loads(answer.body).get("links", []) if answer.status == 200 else []
        href = next(
            (link["href"] for link in links if link.get("rel") == "self" and "json" in link.get("type", "")), None
        )
        if not href:
            raise ReadingRefused(f"No fediverse account {address} was found.")
        remote = actors.fetch_remote(href)
    except (network.NetworkError, ValueError, AttributeError) as error:
        raise ReadingRefused(f"{host} could not be reached or did not answer as a fediverse server.") from error
    if actors.is_blocked(remote.domain):
        raise ReadingRefused("The moderators blocked that server.")
    return remote


def _send(kind: str, user: User, obj: Any, remote: RemoteActor, **extra: Any) -> OutboundActivity:
    me = actors.of_user(user)
    payload = {"@context": CONTEXT, "id": outbox.activity_uri(), "type": kind, "actor": me.id, "object": obj, **extra}
    return outbox.record(kind, me, payload, [remote.delivery_inbox], None)


def follow(user: User, address: str) -> Following:
    _check(user)
    remote = lookup(address)
    with transaction.atomic():
        following, created = Following.objects.get_or_create(
            user=user, remote=remote, defaults={"follow_uri": outbox.activity_uri()}
        )
        if created:
            me = actors.of_user(user)
            payload = {"@context": CONTEXT, "id": following.follow_uri, "type": "Follow", "actor": me.id,
                       "object": remote.uri}  # fmt: skip
            outbox.record("Follow", me, payload, [remote.inbox], None)
    return following


def unfollow(user: User, following: Following) -> None:
    me = actors.of_user(user)
    follow_activity = {"id": following.follow_uri, "type": "Follow", "actor": me.id, "object": following.remote.uri}
    with transaction.atomic():
        _send("Undo", user, follow_activity, following.remote)
        following.delete()


def followings(user: User) -> QuerySet[Following]:
    return Following.objects.filter(user=user).select_related("remote").order_by("-created_at")


def articles_for(user: User) -> QuerySet[ReceivedArticle]:
    """What the accounts this reader follows have sent, newest first."""
    return ReceivedArticle.objects.filter(remote__followed_by__user=user).select_related("remote")[:50]


def like(user: User, article: ReceivedArticle) -> None:
    _check(user)
    _send("Like", user, article.uri, article.remote)


def boost(user: User, article: ReceivedArticle) -> None:
    _check(user)
    me = actors.of_user(user)
    _send("Announce", user, article.uri, article.remote, to=[PUBLIC], cc=[article.remote.uri, f"{me.id}/followers"])


def reply(user: User, article: ReceivedArticle, text: str) -> None:
    """A public reply (Create{Note}), written in Markdown and rendered with the comment rules."""
    _check(user)
    text = text.strip()
    if not text:
        raise ReadingRefused("Write something before replying.")
    if len(text) > MAX_REPLY:
        raise ReadingRefused(f"Replies can be at most {MAX_REPLY:,} characters.")
    me: LocalActor = actors.of_user(user)
    activity_id = outbox.activity_uri()
    note = {
        "id": f"{activity_id}/note", "type": "Note", "attributedTo": me.id, "inReplyTo": article.uri,
        "content": render_markdown(text, comment=True), "published": timezone.now().isoformat(),
        "to": [PUBLIC], "cc": [article.remote.uri],
    }  # fmt: skip
    payload = {"@context": CONTEXT, "id": activity_id, "type": "Create", "actor": me.id, "object": note,
               "to": [PUBLIC], "cc": [article.remote.uri]}  # fmt: skip
    outbox.record("Create", me, payload, [article.remote.delivery_inbox], None)
