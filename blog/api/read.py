"""The read API: what any visitor may see on the site, as JSON. The same
visibility rules as the pages (Post.objects.published(), Comment's public()),
cursor paging, and cache headers a shared cache may honour."""

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.dateparse import parse_datetime
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import NinjaJSONEncoder
from taggit.models import Tag

from blog import pagecache
from blog.api import schemas
from blog.api.access import KeyAuth, key_of, public
from blog.models import Comment, Post, PostQuerySet
from blog.shared.site import absolute

# One router for reading and writing, so that GET and POST /posts share a path;
# writes name their own auth (a key), reads take a key or none.
router = Router(auth=[KeyAuth(), public])
PAGE_SIZE_MAX = 50


# JSON is never a page: it may load nothing and be framed nowhere. Written out once
# (the site's policy is built per response, for its nonce).
JSON_CSP = "default-src 'none'; frame-ancestors 'none'"


def cacheable(request: HttpRequest, response: HttpResponse) -> None:
    """Public content: a shared cache may keep anonymous answers for a minute; a key's are its own."""
    response["Content-Security-Policy"] = JSON_CSP
    if key_of(request) is None:
        patch_cache_control(response, public=True, max_age=settings.API_CACHE_SECONDS)
    else:
        patch_cache_control(response, private=True, max_age=settings.API_CACHE_SECONDS)
    patch_vary_headers(response, ["Authorization"])


def shared(request: HttpRequest, schema: type[Schema], build: Callable[[], Any]) -> HttpResponse:
    """Answers built once per listings version and kept in the shared cache, as
    the pages are (blog/pagecache/: a published post, a new comment or tag
    bumps the version; counters may lag COUNTER_LAG seconds). Public content is
    the same with a key or without, so both share it."""
    versions = pagecache.versions(request, pagecache.LISTINGS)
    cache_key = "api:" + hashlib.sha256(f"{versions}|{request.get_full_path()}".encode()).hexdigest()
    stored = pagecache.local_copy(cache_key)  # this process's copy, else the shared cache's
    if stored is None or stored[0] + pagecache.COUNTER_LAG < time.time():
        stored = (time.time(), _json(schema, build()))
        cache.set(cache_key, stored, pagecache.COUNTER_LAG)
        pagecache.keep_local_copy(cache_key, stored)
    response = HttpResponse(stored[1], content_type="application/json")
    cacheable(request, response)
    return response


def _json(schema: type[Schema], data: Any) -> str:
    """What ninja itself would answer: checked against the schema, then its JSON encoder."""
    return json.dumps(schema.model_validate(data).model_dump(), cls=NinjaJSONEncoder)


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise HttpError(400, "The cursor is not one this API gave out.") from None
    if not isinstance(values, list):
        raise HttpError(400, "The cursor is not one this API gave out.")
    return values


def author_out(user: Any) -> dict[str, str]:
    return {"handle": user.username, "display_name": user.name, "url": absolute(user.get_absolute_url())}


def post_out(post: Post, *, body: bool = False) -> dict[str, Any]:
    out = {
        "id": post.pk, "slug": post.slug, "title": post.title, "subtitle": post.subtitle,
        "url": absolute(post.get_absolute_url()), "author": author_out(post.author),
        "tags": [tag.slug for tag in post.tags.all()], "excerpt": post.summary,
        "cover_url": absolute(post.cover.url) if post.cover else None, "published_at": post.published_at,
        "updated_at": post.updated_at, "reading_minutes": post.reading_minutes,
        "comment_count": getattr(post, "comment_count", 0), "like_count": post.like_count,
    }  # fmt: skip
    if body:
        out["body_html"] = post.body_html
    return out


class PostFilters(Schema):
    tag: str | None = None
    author: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    cursor: str | None = None
    limit: int = 20


def _after_cursor(posts: PostQuerySet, cursor: str) -> PostQuerySet:
    values = decode_cursor(cursor)
    when = parse_datetime(values[0]) if len(values) == 2 and isinstance(values[0], str) else None
    if when is None or not isinstance(values[1], int):
        raise HttpError(400, "The cursor is not one this API gave out.")
    return posts.filter(Q(published_at__lt=when) | Q(published_at=when, pk__lt=values[1]))


@router.get("/posts", response=schemas.PostPage, tags=["read"], summary="Published posts, newest first")
def list_posts(request: HttpRequest, filters: Query[PostFilters]) -> HttpResponse:
    if not 1 <= filters.limit <= PAGE_SIZE_MAX:
        raise HttpError(400, f"limit must be between 1 and {PAGE_SIZE_MAX}.")
    return shared(request, schemas.PostPage, lambda: _post_page(filters))


def _post_page(filters: PostFilters) -> dict[str, Any]:
    posts = Post.objects.published().for_listing()
    if filters.tag:
        posts = posts.filter(tags__slug=filters.tag)
    if filters.author:
        posts = posts.filter(author__username__iexact=filters.author)
    if filters.published_after:
        posts = posts.filter(published_at__gte=filters.published_after)
    if filters.published_before:
        posts = posts.filter(published_at__lt=filters.published_before)
    if filters.cursor:
        posts = _after_cursor(posts, filters.cursor)
    page = list(posts[: filters.limit + 1])
    more, page = len(page) > filters.limit, page[: filters.limit]
    last = page[-1] if page else None
    cursor = encode_cursor(last.published_at.isoformat(), last.pk) if more and last and last.published_at else None
    return {"items": [post_out(post) for post in page], "next_cursor": cursor}


POST_FOUND = {200: schemas.PostDetail, 404: schemas.Error}


@router.get("/posts/{post_id}", response=POST_FOUND, tags=["read"], summary="One published post")
def get_post(request: HttpRequest, response: HttpResponse, post_id: int) -> dict[str, Any]:
    post = get_object_or_404(Post.objects.published().for_listing().defer(None), pk=post_id)
    cacheable(request, response)
    return post_out(post, body=True)


@router.get("/posts/slug/{slug}", response=POST_FOUND, tags=["read"], summary="One published post, by its slug")
def get_post_by_slug(request: HttpRequest, response: HttpResponse, slug: str) -> dict[str, Any]:
    post = get_object_or_404(Post.objects.published().for_listing().defer(None), slug=slug)
    cacheable(request, response)
    return post_out(post, body=True)


@router.get(
    "/posts/{post_id}/comments",
    response={200: schemas.CommentPage, 404: schemas.Error},
    tags=["read"],
    summary="A post's comments",
)
def list_comments(
    request: HttpRequest, response: HttpResponse, post_id: int, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """Approved comments, oldest first; held, rejected and deleted ones are never listed."""
    if not 1 <= limit <= 100:
        raise HttpError(400, "limit must be between 1 and 100.")
    post = get_object_or_404(Post.objects.published().only("pk"), pk=post_id)
    comments = post.comments.public().filter(is_deleted=False).select_related("author").order_by("pk")
    if cursor:
        values = decode_cursor(cursor)
        if len(values) != 1 or not isinstance(values[0], int):
            raise HttpError(400, "The cursor is not one this API gave out.")
        comments = comments.filter(pk__gt=values[0])
    page = list(comments[: limit + 1])
    more, page = len(page) > limit, page[:limit]
    cacheable(request, response)
    return {
        "items": [_comment_out(comment) for comment in page],
        "next_cursor": encode_cursor(page[-1].pk) if more else None,
    }


def _comment_out(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.pk, "author": comment.author.username, "body_html": comment.body_html,
        "reply_to": comment.reply_to_id, "created_at": comment.created_at, "like_count": comment.like_count,
    }  # fmt: skip


@router.get("/tags", response=list[schemas.Tag], tags=["read"], summary="Tags with published posts, most used first")
def list_tags(request: HttpRequest, response: HttpResponse) -> list[dict[str, Any]]:
    published = Post.objects.published().values("pk")
    tags = (
        Tag.objects.filter(taggit_taggeditem_items__object_id__in=published)
        .annotate(post_count=Count("taggit_taggeditem_items", distinct=True))
        .order_by("-post_count", "name")[:500]
    )
    cacheable(request, response)
    return [
        {
            "slug": t.slug,
            "name": t.name,
            "post_count": t.post_count,
            "url": absolute(reverse("blog:tag", args=[t.slug])),
        }
        for t in tags
    ]


@router.get("/authors", response=list[schemas.AuthorDetail], tags=["read"], summary="People with published posts")
def list_authors(request: HttpRequest, response: HttpResponse) -> list[dict[str, Any]]:
    published = Q(posts__in=Post.objects.published())
    authors = (
        get_user_model()
        .objects.filter(is_active=True)
        .annotate(post_count=Count("posts", filter=published))
        .filter(post_count__gt=0)
        .order_by("-post_count", "username")[:500]
    )
    cacheable(request, response)
    return [{**author_out(a), "bio": a.bio, "post_count": a.post_count} for a in authors]
