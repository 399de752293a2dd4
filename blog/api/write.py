"""The write API for the publication's own tools. Every write goes through
the desk's own functions and forms (PostForm, publishing, subscriptions,
moderation), and queues its follow-up work the way the desk does; a refused
write changes nothing."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from ninja import File, Form, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from blog.api import schemas
from blog.api.access import KeyAuth, require_scope
from blog.api.read import router
from blog.discussion import moderation
from blog.discussion.moderation import CommentRefused
from blog.forms import ImageUploadForm, PostForm
from blog.models import ApiKey, Comment, Post, Subscriber
from blog.newsletter import subscriptions
from blog.posts.publishing import publish_post, schedule_post, unpublish_post
from blog.shared.site import absolute
from blog.tasks import queue_notices, queue_send, refresh_preview, send_confirmation

WRITE: dict[str, Any] = {"auth": KeyAuth(), "tags": ["write"]}
ERRORS = {400: schemas.Error, 401: schemas.Error, 403: schemas.Error, 404: schemas.Error}


def _first_error(form: Any) -> str:
    field, errors = next(iter(form.errors.items()))
    return f"{field}: {errors[0]}" if field != "__all__" else errors[0]


def _written(post: Post) -> dict[str, Any]:
    return {
        "id": post.pk, "slug": post.slug, "title": post.title, "status": post.status,
        "published_at": post.published_at, "url": absolute(post.get_absolute_url()),
        "edit_url": absolute(reverse("blog:post_edit", args=[post.pk])),
    }  # fmt: skip


def _own_post(key: ApiKey, post_id: int) -> Post:
    """A post the key's maker may edit; others' posts are 404, as on the desk."""
    return get_object_or_404(Post.objects.editable_by(key.created_by), pk=post_id)


def _save_post(post: Post, fields: dict[str, Any]) -> Post:
    """The desk's own form checks and saves it (title, permalink, tags), or nothing is saved."""
    data = {
        "title": post.title, "subtitle": post.subtitle, "body": post.body, "excerpt": post.excerpt,
        "slug": post.slug, "cover_alt": post.cover_alt, "comments_open": post.comments_open,
        "tags": ", ".join(post.tags.names()) if post.pk else "",
    }  # fmt: skip
    for name, value in fields.items():
        data[name] = ", ".join(f'"{tag}"' for tag in value) if name == "tags" else value
    if not data["comments_open"]:
        del data["comments_open"]  # a checkbox left unticked
    form = PostForm(data, MultiValueDict(), instance=post)
    if not form.is_valid():
        raise HttpError(400, _first_error(form))
    with transaction.atomic():
        post = form.save()
        refresh_preview.delay_on_commit(post.pk)
    return post


@router.post("/posts", response={201: schemas.WrittenPost, **ERRORS}, summary="Create a draft", **WRITE)
def create_post(request: HttpRequest, payload: schemas.PostIn) -> Status[dict[str, Any]]:
    key = require_scope(request, ApiKey.Scope.WRITE_POSTS)
    if not key.created_by.has_perm("blog.add_post"):
        raise HttpError(403, "The key's owner may not write posts.")
    post = _save_post(Post(author=key.created_by), payload.dict())
    return Status(201, _written(post))


@router.patch("/posts/{post_id}", response={200: schemas.WrittenPost, **ERRORS}, summary="Change a post", **WRITE)
def update_post(request: HttpRequest, post_id: int, payload: schemas.PostPatch) -> dict[str, Any]:
    key = require_scope(request, ApiKey.Scope.WRITE_POSTS)
    post = _own_post(key, post_id)
    return _written(_save_post(post, payload.dict(exclude_none=True)))


@router.post("/posts/{post_id}/publish", response={200: schemas.WrittenPost, **ERRORS}, summary="Publish now", **WRITE)
def publish(request: HttpRequest, post_id: int, payload: schemas.PublishIn) -> dict[str, Any]:
    """Goes live now and, with email_subscribers, is e-mailed exactly as from the desk."""
    key = require_scope(request, ApiKey.Scope.WRITE_POSTS)
    post = _own_post(key, post_id)
    if post.is_live:
        raise HttpError(400, "This post is published already.")
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(email_subscribers=payload.email_subscribers)
        if publish_post(post):
            refresh_preview.delay_on_commit(post.pk)
            if payload.email_subscribers:
                queue_send([post.pk])
    return _written(post)


@router.post("/posts/{post_id}/schedule", response={200: schemas.WrittenPost, **ERRORS}, summary="Schedule", **WRITE)
def schedule(request: HttpRequest, post_id: int, payload: schemas.ScheduleIn) -> dict[str, Any]:
    key = require_scope(request, ApiKey.Scope.WRITE_POSTS)
    post = _own_post(key, post_id)
    if post.is_live:
        raise HttpError(400, "This post is published already; unpublish it first.")
    try:
        with transaction.atomic():
            Post.objects.filter(pk=post.pk).update(email_subscribers=payload.email_subscribers)
            schedule_post(post, payload.publish_at)
    except ValidationError as error:
        raise HttpError(400, error.messages[0]) from None
    return _written(post)


@router.post(
    "/posts/{post_id}/unpublish", response={200: schemas.WrittenPost, **ERRORS}, summary="Back to draft", **WRITE
)
def unpublish(request: HttpRequest, post_id: int) -> dict[str, Any]:
    key = require_scope(request, ApiKey.Scope.WRITE_POSTS)
    post = _own_post(key, post_id)
    unpublish_post(post)
    return _written(post)


@router.post("/images", response={201: schemas.ImageOut, **ERRORS}, summary="Upload an image", **WRITE)
def upload_image(request: HttpRequest, image: File[UploadedFile], alt: Form[str]) -> Status[dict[str, str]]:
    """The editor's image upload: same types, size and pixel limits as covers."""
    key = require_scope(request, ApiKey.Scope.WRITE_POSTS)
    form = ImageUploadForm({"alt": alt}, MultiValueDict({"image": [image]}))
    if not form.is_valid():
        raise HttpError(400, _first_error(form))
    saved = form.save(commit=False)
    saved.uploaded_by = key.created_by
    saved.save()
    return Status(201, {"url": absolute(saved.image.url), "markdown": saved.markdown})


@router.post("/subscribers", response={202: schemas.SubscriberOut, **ERRORS}, summary="Add a subscriber", **WRITE)
def add_subscriber(request: HttpRequest, payload: schemas.SubscriberIn) -> Status[dict[str, str]]:
    """Double opt-in: a confirmation e-mail goes out, unless the key is trusted to import."""
    key = require_scope(request, ApiKey.Scope.MANAGE_SUBSCRIBERS)
    try:
        subscriber, needs_confirmation = subscriptions.add_subscriber(
            payload.email, frequency=payload.frequency, source=f"api:{key.prefix}", confirmed=key.trusted_import
        )
    except ValidationError as error:
        raise HttpError(400, error.messages[0]) from None
    if needs_confirmation:
        send_confirmation.delay_on_commit(subscriber.pk)
    return Status(202, {"email": subscriber.email, "status": subscriber.status})


@router.post(
    "/subscribers/unsubscribe", response={200: schemas.SubscriberOut, **ERRORS}, summary="Unsubscribe", **WRITE
)
def unsubscribe(request: HttpRequest, payload: schemas.UnsubscribeIn) -> dict[str, str]:
    require_scope(request, ApiKey.Scope.MANAGE_SUBSCRIBERS)
    subscriber = Subscriber.objects.filter(email__iexact=payload.email.strip()).first()
    if subscriber is None:
        raise HttpError(404, "No subscriber has this address.")
    subscriptions.unsubscribe(subscriber)
    return {"email": subscriber.email, "status": subscriber.status}


@router.post(
    "/comments/{comment_id}/moderate", response={200: schemas.ModeratedComment, **ERRORS}, summary="Moderate", **WRITE
)
def moderate(request: HttpRequest, comment_id: int, payload: schemas.ModerateIn) -> dict[str, Any]:
    """The queue's buttons: logged under the key's owner, notifications sent as from the queue."""
    key = require_scope(request, ApiKey.Scope.MODERATE)
    if not key.created_by.has_perm("blog.moderate_comment"):
        raise HttpError(403, "The key's owner may not moderate comments.")
    comment = get_object_or_404(Comment, pk=comment_id)
    try:
        with transaction.atomic():
            queue_notices(moderation.apply_action(key.created_by, [comment], payload.action, reason=payload.reason))
    except CommentRefused as refused:
        raise HttpError(400, str(refused)) from None
    comment.refresh_from_db(fields=["status"])
    return {"id": comment.pk, "status": comment.status}
