"""Who speaks: our actors (the publication and each author) and the remote
actors that talk to them, and the documents that describe both sides.

Our actors are Person actors: the publication is written by people (a
Service is shown as a bot, a Group re-shares what is sent to it). Their ids
live under /ap/; each post is an Article whose id is /ap/articles/<pk>
(stable when the slug changes) and whose url is the post's page. Only live
posts are ever described; authors are the users with a published post."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from blog.federation import network
from blog.federation.signatures import new_key_pair
from blog.models import ActorKey, BlockedInstance, Follower, Post, RemoteActor
from blog.shared.rendering import render_markdown
from blog.shared.site import absolute, hostname

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
ACTOR_REFRESH = timedelta(days=1)
REMOTE_EMAIL_DOMAIN = "federated.invalid"  # .invalid never delivers: stand-ins get no e-mail


@dataclass(frozen=True)
class LocalActor:
    """The publication (user None) or an author."""

    name: str
    user: User | None = None

    @property
    def id(self) -> str:
        if self.user is None:
            return absolute(reverse("federation:publication"))
        return absolute(reverse("federation:author", args=[self.user.username]))

    @property
    def key_id(self) -> str:
        return f"{self.id}#main-key"

    @property
    def display_name(self) -> str:
        return settings.SITE_NAME if self.user is None else self.user.name

    @property
    def profile_url(self) -> str:
        return absolute("/" if self.user is None else self.user.get_absolute_url())


def publication() -> LocalActor:
    return LocalActor(settings.FEDERATION_PUBLICATION_HANDLE)


def author(handle: str) -> LocalActor | None:
    """An author with a live post, or a reader who follows someone elsewhere.

    Other readers are not actors: nothing of theirs is federated until they follow someone."""
    if handle.lower() == settings.FEDERATION_PUBLICATION_HANDLE.lower():
        return None
    users = User.objects.filter(username__iexact=handle, is_active=True, remote_actor__isnull=True)
    user = users.filter(Q(posts__in=Post.objects.published()) | Q(followings__isnull=False)).distinct().first()
    return LocalActor(user.username, user) if user else None


def of_user(user: User) -> LocalActor:
    return LocalActor(user.username, user)


def by_name(name: str) -> LocalActor | None:
    return publication() if name == settings.FEDERATION_PUBLICATION_HANDLE else author(name)


def by_id(uri: str) -> LocalActor | None:
    """One of our actors from its id, or None."""
    if uri == publication().id:
        return publication()
    prefix = absolute(reverse("federation:author", args=["x"]))[: -len("x/")]
    if uri.startswith(prefix):
        return author(uri[len(prefix) :].strip("/"))
    return None


def key_of(actor: LocalActor) -> ActorKey:
    """The actor's key pair, made the first time it is needed (once, whoever asks first)."""
    found = ActorKey.objects.filter(actor=actor.name).first()
    if found:
        return found
    private, public = new_key_pair()
    try:
        with transaction.atomic():
            return ActorKey.objects.create(actor=actor.name, private_pem=private, public_pem=public)
    except IntegrityError:
        return ActorKey.objects.get(actor=actor.name)


def signing_key(name: str) -> tuple[str, str]:
    """(key id, private PEM) that signs what `name` sent, even if it is no actor any more
    (a reader's Undo of their last follow goes out after the follow is gone)."""
    local = publication() if name == settings.FEDERATION_PUBLICATION_HANDLE else None
    key_id = local.key_id if local else absolute(reverse("federation:author", args=[name])) + "#main-key"
    key = ActorKey.objects.filter(actor=name).first() or key_of(local or LocalActor(name))
    return key_id, key.private_pem


# --- Documents we serve ---------------------------------------------------------


def _image(url: str) -> dict[str, str]:
    return {"type": "Image", "url": absolute(url)}


def actor_document(actor: LocalActor) -> dict[str, Any]:
    base = actor.id
    user = actor.user
    summary = settings.SITE_DESCRIPTION if user is None else user.bio
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": base,
        "type": "Person",
        "preferredUsername": actor.name,
        "name": actor.display_name,
        "summary": render_markdown(summary, comment=True) if summary else "",
        "url": actor.profile_url,
        "inbox": absolute(reverse("federation:actor_inbox", args=[actor.name])),
        "outbox": absolute(reverse("federation:outbox", args=[actor.name])),
        "followers": absolute(reverse("federation:followers", args=[actor.name])),
        "endpoints": {"sharedInbox": absolute(reverse("federation:shared_inbox"))},
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "indexable": True,
        "publicKey": {"id": actor.key_id, "owner": base, "publicKeyPem": key_of(actor).public_pem},
    }
    if user is not None and user.avatar:
        doc["icon"] = _image(user.avatar.url)
    if user is None:
        latest = Post.objects.published().exclude(cover="").order_by("-published_at").first()
        if latest:
            doc["image"] = _image(latest.cover.url)
    return doc


def article_id(post: Post) -> str:
    return absolute(reverse("federation:article", args=[post.pk]))


def article(post: Post) -> dict[str, Any]:
    """A live post as an Article: body_html is already sanitised at save (blog.shared.rendering)."""
    doc: dict[str, Any] = {
        "id": article_id(post),
        "type": "Article",
        "name": post.title,
        "summary": post.subtitle or post.summary,
        "content": post.body_html,
        "url": absolute(post.get_absolute_url()),
        # The sender alone: servers (bovine, Mastodon) drop a Create whose object names another author.
        # The author is credited on the page itself (fediverse:creator).
        "attributedTo": publication().id,
        "published": post.published_at.isoformat() if post.published_at else None,
        "updated": post.updated_at.isoformat(),
        "to": [PUBLIC],
        "cc": [absolute(reverse("federation:followers", args=[publication().name]))],
        "tag": [
            {"type": "Hashtag", "name": f"#{tag.name}", "href": absolute(f"/t/{tag.slug}/")} for tag in post.tags.all()
        ],
    }
    if post.cover:
        doc["image"] = _image(post.cover.url)
    return doc


def webfinger(resource: str) -> dict[str, Any] | None:
    """The JRD for acct:<name>@<host> (or an actor's id), or None if it is not ours."""
    name = None
    if resource.startswith("acct:"):
        user_part, _, host = resource[5:].rpartition("@")
        if host.lower() in (hostname().lower(), urlsplit(settings.SITE_URL).netloc.lower()):
            name = user_part
    elif (found := by_id(resource)) is not None:
        name = found.name
    actor = by_name(name) if name else None
    if actor is None:
        return None
    return {
        "subject": f"acct:{actor.name}@{urlsplit(settings.SITE_URL).netloc}",
        "aliases": [actor.id, actor.profile_url],
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": actor.id},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor.profile_url},
        ],
    }


def nodeinfo() -> dict[str, Any]:
    authors = User.objects.filter(posts__in=Post.objects.published()).distinct().count()
    return {
        "version": "2.1",
        "software": {"name": "dispatch", "version": "1.0", "repository": settings.SITE_URL},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
        "openRegistrations": False,
        "usage": {"users": {"total": authors + 1}, "localPosts": Post.objects.published().count()},
        "metadata": {"nodeName": settings.SITE_NAME, "nodeDescription": settings.SITE_DESCRIPTION},
    }


def follower_count(actor: LocalActor) -> int:
    return Follower.objects.filter(local=actor.name).count()


# --- Remote actors ---------------------------------------------------------------


def domain_of(uri: str) -> str:
    return (urlsplit(uri).netloc or "").lower()


def is_blocked(domain: str) -> bool:
    return BlockedInstance.objects.filter(domain=domain.lower()).exists()


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _stand_in(uri: str) -> User:
    """The local user a remote actor acts as: no password, no e-mail, no notifications."""
    username = "fedi-" + hashlib.sha256(uri.encode()).hexdigest()[:20]
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "email": f"{username}@{REMOTE_EMAIL_DOMAIN}",
            "email_on_comments": False,
            "email_on_replies": False,
            "email_on_moderation": False,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _save_remote(document: dict[str, Any], uri: str) -> RemoteActor:
    key = document.get("publicKey")
    key = _first(key) if isinstance(key, list) else key
    if not isinstance(key, dict) or not key.get("publicKeyPem") or not document.get("inbox"):
        raise network.NetworkError(f"{uri} is not an actor with a key and an inbox")
    if document.get("id") != uri or domain_of(str(key.get("id", ""))) != domain_of(uri):
        raise network.NetworkError(f"{uri} names another actor or a key elsewhere")
    endpoints = document.get("endpoints")
    endpoints = endpoints if isinstance(endpoints, dict) else {}
    shared = str(endpoints.get("sharedInbox") or "")
    preferred = str(document.get("preferredUsername") or "")[:100]
    name = str(document.get("name") or "")[:200]
    domain = domain_of(uri)
    fields = {
        "key_id": str(key["id"]), "public_key_pem": str(key["publicKeyPem"]), "inbox": str(document["inbox"]),
        "shared_inbox": shared if domain_of(shared) == domain else "", "domain": domain,
        "preferred_username": preferred, "name": name, "url": str(_first(document.get("url")) or "")[:500],
        "fetched_at": timezone.now(),
    }  # fmt: skip
    with transaction.atomic():
        remote = RemoteActor.objects.select_for_update().filter(uri=uri).first()
        if remote is None:
            remote = RemoteActor.objects.create(uri=uri, user=_stand_in(uri), **fields)
        else:
            RemoteActor.objects.filter(pk=remote.pk).update(**fields)
            remote.refresh_from_db()
        label = f"{name} ({remote.handle})" if name else remote.handle
        User.objects.filter(pk=remote.user_id).update(display_name=label[:80])
        remote.user.display_name = label[:80]
    return remote


def fetch_remote(uri: str, *, refresh: bool = False) -> RemoteActor:
    """A remote actor, from our copy if fresh, else fetched (signed as the publication)."""
    known = RemoteActor.objects.select_related("user").filter(uri=uri).first()
    if known and not refresh and timezone.now() - known.fetched_at < ACTOR_REFRESH:
        return known
    me = publication()
    document = network.get_json(uri, me.key_id, key_of(me).private_pem)
    return _save_remote(document, uri)


def remote_for_key(key_id: str, *, refresh: bool = False) -> RemoteActor:
    """The actor that owns a key id (Mastodon's are <actor>#main-key)."""
    known = RemoteActor.objects.select_related("user").filter(key_id=key_id).first()
    if known and not refresh:
        return known
    return fetch_remote(known.uri if known else key_id.split("#", 1)[0], refresh=True)
