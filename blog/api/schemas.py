"""What the API reads and writes, as the OpenAPI schema describes it."""

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field


class Author(Schema):
    handle: str
    display_name: str
    url: str


class AuthorDetail(Author):
    bio: str
    post_count: int


class PostSummary(Schema):
    id: int
    slug: str
    title: str
    subtitle: str
    url: str
    author: Author
    tags: list[str]
    excerpt: str
    cover_url: str | None
    published_at: datetime | None
    updated_at: datetime
    reading_minutes: int
    comment_count: int
    like_count: int


class PostDetail(PostSummary):
    body_html: str


class PostPage(Schema):
    items: list[PostSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class Tag(Schema):
    slug: str
    name: str
    post_count: int
    url: str


class Comment(Schema):
    id: int
    author: str
    body_html: str
    reply_to: int | None
    created_at: datetime
    like_count: int


class CommentPage(Schema):
    items: list[Comment]
    next_cursor: str | None


class Error(Schema):
    detail: str


# --- Writing ---------------------------------------------------------------------


class PostIn(Schema):
    title: str = Field(max_length=200)
    body: str = Field(description="Markdown.")
    subtitle: str = ""
    excerpt: str = ""
    slug: str = ""
    tags: list[str] = []
    comments_open: bool = True


class PostPatch(Schema):
    title: str | None = Field(None, max_length=200)
    body: str | None = None
    subtitle: str | None = None
    excerpt: str | None = None
    slug: str | None = None
    tags: list[str] | None = None
    comments_open: bool | None = None


class WrittenPost(Schema):
    id: int
    slug: str
    title: str
    status: str
    published_at: datetime | None
    url: str
    edit_url: str


class PublishIn(Schema):
    email_subscribers: bool = True


class ScheduleIn(Schema):
    publish_at: datetime
    email_subscribers: bool = True


class ImageOut(Schema):
    url: str
    markdown: str


class SubscriberIn(Schema):
    email: str = Field(max_length=254)
    frequency: Literal["post", "daily", "weekly"] = "post"


class SubscriberOut(Schema):
    email: str
    status: str


class UnsubscribeIn(Schema):
    email: str = Field(max_length=254)


class ModerateIn(Schema):
    action: Literal["approve", "reject", "spam", "delete"]
    reason: str = Field("", max_length=500)


class ModeratedComment(Schema):
    id: int
    status: str
