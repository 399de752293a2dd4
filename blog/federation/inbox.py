"""What comes back: inbound activities, verified, then handled as a local reader's action.

A request is accepted only with a valid HTTP Signature by a key whose actor is
the activity's actor, from an instance not blocked (blog/federation/signatures.py
checks the digest and the date window). Each activity id is handled once.

- Follow / Undo{Follow}: a follower of the publication or an author, answered with Accept.
- Like / Undo{Like}: a like of the post, by the remote actor's stand-in user.
- Announce / Undo{Announce}: a re-stack, listed under the post with the remote account.
- Create{Note} replying (inReplyTo) to a post, a local comment or a remote reply:
  a comment through blog.discussion.moderation's rules (bans, rate, words, links, first
  comment held), its HTML cut down to text and rendered with the comment rules.
  Only public notes: a followers-only or direct reply is never published.
- Delete of a reply: hidden as its author's deletion; of the actor: its follows end.

Nothing here queues work: the notices of a published comment are returned."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from markdownify import markdownify

from blog.discussion import bans, counters, moderation, notifications, threads
from blog.discussion.notifications import Notice
from blog.federation import actors, outbox, signatures
from blog.federation.actors import PUBLIC
from blog.federation.network import NetworkError
from blog.models import (
    Comment,
    Follower,
    Following,
    InboundActivity,
    Like,
    Post,
    ReceivedArticle,
    RemoteActor,
    RemoteObject,
    Restack,
)
from blog.shared.rendering import render_markdown

PUBLIC_NAMES = {PUBLIC, "as:Public", "Public"}
MAX_COMMENT = 10_000
MAX_URI = 500  # the length of every id column
DROPPED_ELEMENTS = ["script", "style", "iframe", "object", "embed", "img", "video", "audio", "template"]
# A remote reply is not typed into our form: the form check (signed time, honeypot) does not apply.
FEDERATED_FORM_AGE = 3600.0


class Rejected(Exception):
    """The request is refused; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Outcome:
    handled: str
    notices: list[Notice] = field(default_factory=list)


# --- Verifying ---------------------------------------------------------------------


def signature_of(headers: dict[str, str]) -> signatures.Signature:
    raw = headers.get("signature") or headers.get("authorization", "").removeprefix("Signature ")
    if not raw:
        raise Rejected("The request is not signed.")
    try:
        return signatures.parse(raw)
    except signatures.SignatureError as error:
        raise Rejected(str(error)) from error


def verify(method: str, target: str, headers: dict[str, str], body: bytes) -> RemoteActor:
    """The remote actor that signed this request, or Rejected.

    A key that no longer verifies is fetched again once (the actor may have rotated it)."""
    sig = signature_of(headers)
    if actors.is_blocked(actors.domain_of(sig.key_id)):
        raise Rejected("This instance is blocked here.", 403)
    try:
        remote = actors.remote_for_key(sig.key_id)
        try:
            signatures.verify(method, target, headers, body, sig, remote.public_key_pem)
        except signatures.SignatureError:
            remote = actors.remote_for_key(sig.key_id, refresh=True)
            signatures.verify(method, target, headers, body, sig, remote.public_key_pem)
    except signatures.SignatureError as error:
        raise Rejected(str(error)) from error
    except NetworkError as error:
        raise Rejected(f"The signing key could not be fetched: {error}") from error
    return remote


def parse(body: bytes) -> dict[str, Any]:
    try:
        activity = json.loads(body)
    except ValueError as error:
        raise Rejected("The body is not JSON.", 400) from error
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise Rejected("The body is not an activity.", 400)
    return activity


# --- Finding what an activity is about -----------------------------------------------


def _id(value: Any) -> str:
    value = value[0] if isinstance(value, list) and value else value
    if isinstance(value, dict):
        return str(value.get("id") or value.get("href") or "")
    return str(value or "")


def _local_path(uri: str) -> str | None:
    site, parts = urlsplit(settings.SITE_URL), urlsplit(uri)
    if (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
        return None
    return parts.path


def local_post(uri: str) -> Post | None:
    """A live post from its Article id or its page's URL."""
    path = _local_path(uri)
    try:
        match = resolve(path) if path else None
    except Resolver404:
        return None
    live = Post.objects.published().select_related("author")
    if match and match.view_name == "federation:article":
        return live.filter(pk=match.kwargs["pk"]).first()
    if match and match.view_name == "blog:post_detail":
        return live.filter(slug=match.kwargs["slug"]).first()
    return None


def _reply_target(uri: str) -> tuple[Post | None, Comment | None]:
    """The post and comment a reply answers (a remote reply's stand-in comment included)."""
    remote = RemoteObject.objects.filter(uri=uri, comment__isnull=False).select_related("comment__post").first()
    if remote and remote.comment:
        return remote.comment.post, remote.comment
    path = _local_path(uri)
    try:
        match = resolve(path) if path else None
    except Resolver404:
        match = None
    if match and match.view_name == "blog:comment_detail":
        comment = Comment.objects.public().filter(pk=match.kwargs["pk"]).select_related("post").first()
        return (comment.post, comment) if comment else (None, None)
    return local_post(uri), None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def _is_public(obj: dict[str, Any]) -> bool:
    audience: list[Any] = []
    for key in ("to", "cc"):
        value = obj.get(key)
        audience += value if isinstance(value, list) else [value]
    return any(str(item) in PUBLIC_NAMES for item in audience)


# --- Handling ------------------------------------------------------------------------


def handle(activity: dict[str, Any], remote: RemoteActor) -> Outcome:
    """Do what a verified activity asks, once per activity id."""
    if _id(activity.get("actor")) != remote.uri:
        raise Rejected("The activity's actor is not the signer.", 403)
    kind = str(activity["type"])
    uri = str(activity.get("id") or "")
    obj = activity.get("object")
    if max(len(uri), len(_id(obj)), len(_id(obj.get("inReplyTo")) if isinstance(obj, dict) else "")) > MAX_URI:
        raise Rejected("An id is longer than this server keeps.", 400)
    if actors.domain_of(uri) != remote.domain:
        raise Rejected("The activity's id is not on the signer's server.", 403)
    handler = HANDLERS.get(kind)
    if handler is None:
        return Outcome(f"ignored {kind}")
    try:
        with transaction.atomic():
            InboundActivity.objects.create(uri=uri, kind=kind[:20], actor=remote)
            return handler(activity, remote)
    except IntegrityError:
        return Outcome(f"{kind} seen already")


def _follow(activity: dict[str, Any], remote: RemoteActor) -> Outcome:
    local = actors.by_id(_id(activity.get("object")))
    if local is None:
        raise Rejected("There is no such actor here.", 404)
    Follower.objects.get_or_create(remote=remote, local=local.name, defaults={"follow_uri": str(activity["id"])})
    outbox.accept_follow(local, {k: v for k, v in activity.items() if k != "@context"}, remote)
    return Outcome(f"{remote.handle} follows {local.name}")


def _like(activity: dict[str, Any], remote: RemoteActor) -> Outcome:
    post = local_post(_id(activity.get("object")))
    if post is None or bans.refusal(remote.user, None):
        return Outcome("like not counted")
    if counters.add_counted(Like, post, "like_count", post=post, user=remote.user):
        fields = {"actor": remote, "kind": RemoteObject.Kind.LIKE, "post": post}
        RemoteObject.objects.update_or_create(uri=str(activity["id"]), defaults=fields)
    return Outcome(f"{remote.handle} likes {post.slug}")


def _announce(activity: dict[str, Any], remote: RemoteActor) -> Outcome:
    post = local_post(_id(activity.get("object")))
    if post is None or bans.refusal(remote.user, None):
        return Outcome("re-stack not counted")
    _, created = Restack.objects.get_or_create(post=post, user=remote.user)
    if created:
        Post.objects.filter(pk=post.pk).update(restack_count=F("restack_count") + 1)
    fields = {"actor": remote, "kind": RemoteObject.Kind.ANNOUNCE, "post": post}
    RemoteObject.objects.update_or_create(uri=str(activity["id"]), defaults=fields)
    return Outcome(f"{remote.handle} re-stacked {post.slug}")


def _text_of(note: dict[str, Any]) -> str:
    """The reply as the Markdown a reader would have typed: remote HTML never reaches a page as HTML."""
    soup = BeautifulSoup(str(note.get("content") or ""), "html.parser")
    for element in soup(DROPPED_ELEMENTS):
        element.decompose()  # with their content: a script's text is no reader's words
    return str(markdownify(str(soup), heading_style="ATX")).strip()[:MAX_COMMENT]


def _create(activity: dict[str, Any], remote: RemoteActor) -> Outcome:
    note = activity.get("object")
    if not isinstance(note, dict) or note.get("type") not in ("Note", "Article"):
        return Outcome("not a note")
    authors = [_id(item) for item in _listed(note.get("attributedTo"))]
    if (authors and remote.uri not in authors) or actors.domain_of(_id(note)) != remote.domain:
        raise Rejected("The note is not the signer's.", 403)
    if not _is_public(note):
        return Outcome("not public: not published here")
    post, reply_to = _reply_target(_id(note.get("inReplyTo"))) if note.get("inReplyTo") else (None, None)
    if post is None and not note.get("inReplyTo"):
        return _receive_article(note, remote)
    if post is None or not post.comments_open:
        return Outcome("not a reply to a live post open to comments")
    body = _text_of(note)
    if not body:
        return Outcome("empty reply")
    decision = moderation.moderate(author=remote.user, body=body, ip=None, form_age=FEDERATED_FORM_AGE)
    if decision.refusal is not None:
        return Outcome(f"reply refused: {'; '.join(decision.reasons)}")
    comment = _save_comment(post, remote, body, reply_to, decision)
    RemoteObject.objects.create(
        uri=_id(note), actor=remote, kind=RemoteObject.Kind.NOTE, post=post, comment=comment,
        url=_id(note.get("url"))[:500],
    )  # fmt: skip
    if decision.status != Comment.Status.APPROVED:
        return Outcome(f"reply held: {'; '.join(decision.reasons)}")
    threads.changed(post.pk)
    return Outcome("reply published", notifications.notices_for(comment))


def _when(value: Any) -> datetime | None:
    try:
        return parse_datetime(str(value or ""))
    except ValueError:  # well formed, but no such date
        return None


def _receive_article(obj: dict[str, Any], remote: RemoteActor) -> Outcome:
    """A post from an account our readers follow: kept for them, as text rendered with the comment rules."""
    if not Following.objects.filter(remote=remote).exists():
        return Outcome("nobody here follows its author")
    text = _text_of(obj)
    fields = {
        "remote": remote, "url": _id(obj.get("url"))[:500], "name": str(obj.get("name") or "")[:300],
        "summary": str(BeautifulSoup(str(obj.get("summary") or ""), "html.parser").get_text())[:1000],
        "content_html": render_markdown(text, comment=True),
        "published": _when(obj.get("published")),
    }  # fmt: skip
    ReceivedArticle.objects.update_or_create(uri=_id(obj), defaults=fields)
    return Outcome(f"received {fields['name'] or 'a post'} from {remote.handle}")


def _save_comment(
    post: Post, remote: RemoteActor, body: str, reply_to: Comment | None, decision: moderation.Decision
) -> Comment:
    if reply_to is None:
        parent, level = None, 1
    elif reply_to.level < 4:
        parent, level = reply_to, reply_to.level + 1
    else:
        parent, level = (reply_to if reply_to.level == 4 else reply_to.parent), 5
    comment = Comment.objects.create(
        post=post, author=remote.user, reply_to=reply_to, parent=parent, level=level, body=body,
        body_html=render_markdown(body, comment=True), status=decision.status, reasons=decision.reasons,
    )  # fmt: skip
    if decision.status != Comment.Status.APPROVED:
        action = moderation.Action.by_rules(decision.status)
        moderation.log(None, comment, action, "; ".join(decision.reasons), "", decision.status)
    return comment


def _accept(activity: dict[str, Any], remote: RemoteActor) -> Outcome:
    accepted = Following.objects.filter(follow_uri=_id(activity.get("object")), remote=remote)
    return Outcome("follow accepted" if accepted.update(accepted_at=timezone.now()) else "nothing to accept")


def _undo(activity: dict[str, Any], remote: RemoteActor) -> Outcome:
    inner = activity.get("object")
    inner_id = _id(inner)
    inner_type = inner.get("type") if isinstance(inner, dict) else None
    if inner_type == "Follow" or Follower.objects.filter(remote=remote, follow_uri=inner_id).exists():
        local = actors.by_id(_id(inner.get("object"))) if isinstance(inner, dict) else None
        follows = Follower.objects.filter(remote=remote)
        follows = follows.filter(local=local.name) if local else follows.filter(follow_uri=inner_id)
        follows.delete()
        return Outcome(f"{remote.handle} unfollowed")
    made = RemoteObject.objects.filter(uri=inner_id, actor=remote).select_related("post").first()
    if made is None or made.kind == RemoteObject.Kind.NOTE:
        return Outcome("nothing to undo")
    rows, counter = (Like, "like_count") if made.kind == RemoteObject.Kind.LIKE else (Restack, "restack_count")
    counters.remove_counted(rows, made.post, counter, post=made.post, user=remote.user)
    made.delete()
    return Outcome(f"{made.get_kind_display().lower()} undone")


def _delete(activity: dict[str, Any], remote: RemoteActor) -> Outcome:
    target = _id(activity.get("object"))
    if target == remote.uri:
        Follower.objects.filter(remote=remote).delete()
        return Outcome(f"{remote.handle} deleted: follows ended")
    if ReceivedArticle.objects.filter(uri=target, remote=remote).delete()[0]:
        return Outcome("received post deleted")
    made = RemoteObject.objects.filter(uri=target, actor=remote, comment__isnull=False).first()
    if made is None or made.comment_id is None:
        return Outcome("nothing to delete")
    # Hidden from readers, kept for the moderators (as a local reader's deletion is).
    comment = Comment.objects.get(pk=made.comment_id)
    Comment.objects.filter(pk=comment.pk).update(is_deleted=True, is_pinned=False)
    threads.changed(comment.post_id)
    return Outcome("reply deleted")


def _update(activity: dict[str, Any], remote: RemoteActor) -> Outcome:
    obj = activity.get("object")
    if _id(obj) == remote.uri:
        actors.fetch_remote(remote.uri, refresh=True)
        return Outcome("actor refreshed")
    if isinstance(obj, dict) and ReceivedArticle.objects.filter(uri=_id(obj), remote=remote).exists():
        return _receive_article(obj, remote)
    return Outcome("updates of replies are not applied")


HANDLERS = {
    "Follow": _follow,
    "Accept": _accept,
    "Like": _like,
    "Announce": _announce,
    "Create": _create,
    "Undo": _undo,
    "Delete": _delete,
    "Update": _update,
}
