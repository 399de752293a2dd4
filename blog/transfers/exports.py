"""Exporting the whole publication to one ZIP that imports back (blog/transfers/imports/dispatch.py).

Written straight to disk: each JSON document is an array written one object
a line from a database iterator, and media files are copied in one by one,
so memory stays flat however large the publication. The layout is
described in EXPORT_README, which goes into the ZIP."""

import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from django.db.models import Model, QuerySet
from django.utils import timezone
from taggit.models import Tag

from accounts.models import User
from blog.models import (
    Ban,
    Comment,
    CommentLike,
    CommentRevision,
    Delivery,
    Digest,
    ExportJob,
    Flag,
    Like,
    LinkClick,
    ModerationLog,
    ModerationSettings,
    PageViewDay,
    Post,
    ReferralVisit,
    ReferrerDay,
    Restack,
    Send,
    Share,
    SourceRecord,
    Subscriber,
)
from blog.shared import files

logger = logging.getLogger(__name__)

FORMAT = "dispatch-export"
VERSION = 1
CHUNK = 2000
POST_CHUNK = 100
Row = dict[str, object]

EXPORT_README = """# Dispatch export

Everything a Dispatch publication holds, in a form that imports back:
`python manage.py import_publication THIS.zip` into an empty site.

- `manifest.json`: {"format": "dispatch-export", "version": 1, "exported_at", "counts"}.
- `posts/<slug>.md`: each post's Markdown body after front matter between
  `---` lines. Each front-matter line is `key: value` with the value written
  as JSON (so it is also YAML): title, subtitle, slug, status, published_at,
  created_at, updated_at, author, tags, excerpt, cover, cover_alt,
  comments_open.
- `media/`: uploaded files (covers, avatars, imported images), at the paths
  the JSON documents name.
- `data/<kind>.json`: one JSON array per kind, one object a line. People are
  named by handle, posts by slug, subscribers by e-mail; comments and
  digests by the `id` they had here (only for links inside this export).
  users (password hashes only with --with-password-hashes), tags, posts (counters,
  old slugs and old addresses), comments (threads, statuses, moderation
  reasons), comment_likes, flags, likes, shares, restacks (with notes),
  referral_visits, page_view_days, referrer_days, link_clicks (insights),
  subscribers (status, frequency, consent evidence), sends,
  digests, deliveries (outcomes), bans, moderation_log,
  moderation_settings, source_records (where imported rows came from).
- Dates are ISO 8601 in UTC.
"""


def _value(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _fields(obj: Model, names: Iterable[str]) -> Row:
    return {name: _value(getattr(obj, name)) for name in names}


class _Writer:
    def __init__(self, archive: zipfile.ZipFile, progress: Callable[[str], None]) -> None:
        self.archive = archive
        self.progress = progress
        self.counts: dict[str, int] = {}

    def dump(self, kind: str, rows: Iterable[Row]) -> None:
        """A JSON array, one object a line, streamed into the ZIP."""
        count = 0
        with self.archive.open(f"data/{kind}.json", "w") as member:
            member.write(b"[\n")
            for row in rows:
                member.write((b",\n" if count else b"") + json.dumps(row, ensure_ascii=False).encode())
                count += 1
            member.write(b"\n]\n")
        self.counts[kind] = count
        self.progress(kind)


def _each[M: Model](queryset: QuerySet[M], chunk: int = CHUNK) -> Iterator[M]:
    return queryset.order_by("pk").iterator(chunk_size=chunk)


USER_FIELDS = [
    "username",
    "email",
    "display_name",
    "bio",
    "is_staff",
    "is_superuser",
    "is_active",
    "date_joined",
    "last_login",
    "email_on_comments",
    "email_on_replies",
    "email_on_moderation",
    "referral_code",
]
POST_FIELDS = [
    "slug",
    "title",
    "subtitle",
    "status",
    "published_at",
    "created_at",
    "updated_at",
    "excerpt",
    "cover_alt",
    "comments_open",
    "like_count",
    "share_count",
    "restack_count",
]
COMMENT_FIELDS = [
    "id",
    "level",
    "body",
    "status",
    "reasons",
    "is_deleted",
    "is_pinned",
    "like_count",
    "flag_count",
    "ip",
    "created_at",
    "edited_at",
]
SUBSCRIBER_FIELDS = [
    "email",
    "status",
    "frequency",
    "digest_hour",
    "digest_weekday",
    "timezone",
    "source",
    "consent_ip",
    "created_at",
    "confirmed_at",
    "confirmed_ip",
    "confirmation_sent_at",
    "unsubscribed_at",
    "last_digest_at",
]
DELIVERY_FIELDS = ["status", "attempts", "enqueued_at", "claimed_at", "sent_at", "error"]


def _handle(user: User | None) -> str | None:
    return user.username if user else None


def _users(with_password_hashes: bool) -> Iterable[Row]:
    users = User.objects.select_related("referred_by").prefetch_related("groups", "emailaddress_set")
    for user in _each(users):
        row = _fields(user, USER_FIELDS)
        row["avatar"] = user.avatar.name
        row["referred_by"] = _handle(user.referred_by)
        row["groups"] = sorted(group.name for group in user.groups.all())
        row["addresses"] = [
            {"email": a.email, "verified": a.verified, "primary": a.primary}
            for a in sorted(user.emailaddress_set.all(), key=lambda a: a.email)  # type: ignore[attr-defined]
        ]
        if with_password_hashes:
            row["password"] = user.password
        yield row


def _posts() -> Iterable[Row]:
    posts = Post.objects.defer("body", "body_html").select_related("author")
    posts = posts.prefetch_related("tags", "old_slugs", "legacy_paths")  # type: ignore[misc]  # taggit
    for post in _each(posts, chunk=500):
        row = _fields(post, POST_FIELDS)
        row["author"] = post.author.username
        row["cover"] = post.cover.name
        row["tags"] = sorted(tag.name for tag in post.tags.all())
        row["old_slugs"] = sorted(r.old_slug for r in post.old_slugs.all())
        row["legacy_paths"] = sorted(r.path for r in post.legacy_paths.all())
        yield row


def post_markdown(post: Post) -> str:
    front = {
        "title": post.title,
        "subtitle": post.subtitle,
        "slug": post.slug,
        "status": post.status,
        "published_at": _value(post.published_at),
        "created_at": _value(post.created_at),
        "updated_at": _value(post.updated_at),
        "author": post.author.username,
        "tags": sorted(tag.name for tag in post.tags.all()),
        "excerpt": post.excerpt,
        "cover": post.cover.name,
        "cover_alt": post.cover_alt,
        "comments_open": post.comments_open,
    }
    lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in front.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + post.body


def _comments() -> Iterable[Row]:
    comments = Comment.objects.select_related("post", "author").defer("body_html")
    for comment in _each(comments.only(*COMMENT_FIELDS, "reply_to", "parent", "post__slug", "author__username")):
        row = _fields(comment, COMMENT_FIELDS)
        row.update(post=comment.post.slug, author=comment.author.username)
        row.update(reply_to=comment.reply_to_id, parent=comment.parent_id)
        yield row


def _simple(queryset: QuerySet[Any], names: list[str], **related: str) -> Iterable[Row]:
    """Rows of plain fields plus related objects named by `related` (field -> attribute of it).

    Only the columns written are loaded: a post's body must not ride along with each of its likes."""
    columns = [*names, *(f"{name}__{'id' if attribute == 'pk' else attribute}" for name, attribute in related.items())]
    queryset = queryset.select_related(*related) if related else queryset
    for obj in _each(queryset.only(*columns)):
        row = _fields(obj, names)
        for name, attribute in related.items():
            target = getattr(obj, name)
            row[name] = getattr(target, attribute) if target is not None else None
        yield row


def _subscribers() -> Iterable[Row]:
    for subscriber in _each(Subscriber.objects.select_related("user", "referred_by")):
        row = _fields(subscriber, SUBSCRIBER_FIELDS)
        row.update(user=_handle(subscriber.user), referred_by=_handle(subscriber.referred_by))
        yield row


def _digests() -> Iterable[Row]:
    for digest in _each(Digest.objects.select_related("subscriber").prefetch_related("posts")):
        yield {
            "id": digest.pk,
            "subscriber": digest.subscriber.email,
            "period": digest.period,
            "posts": sorted(post.slug for post in digest.posts.all()),
            "created_at": _value(digest.created_at),
        }


def _deliveries() -> Iterable[Row]:
    deliveries = Delivery.objects.select_related("send__post", "subscriber")
    for delivery in _each(deliveries.only(*DELIVERY_FIELDS, "digest", "send__post__slug", "subscriber__email")):
        row = _fields(delivery, DELIVERY_FIELDS)
        row.update(
            send=delivery.send.post.slug if delivery.send else None,
            digest=delivery.digest_id,
            subscriber=delivery.subscriber.email,
        )
        yield row


def _moderation_settings() -> Iterable[Row]:
    names = [f.name for f in ModerationSettings._meta.concrete_fields if not f.primary_key]
    for row in ModerationSettings.objects.all():
        yield _fields(row, names)


def _source_records() -> Iterable[Row]:
    """Where imported rows came from; a post is named by its slug, a comment by its id here."""
    slugs = dict(Post.objects.values_list("pk", "slug"))
    for record in _each(SourceRecord.objects.all()):
        row = _fields(record, ["source", "site", "kind", "source_id", "digest"])
        row["object"] = slugs.get(record.object_id) if record.kind == "post" else record.object_id
        yield row


def _media_files() -> Iterable[str]:
    """Public media by storage name; social previews are drawn again from the posts."""
    return (name for name in files.walk(files.public_storage()) if name.split("/")[0] != "previews")


def export_publication(
    target: Path, *, with_password_hashes: bool = False, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Write the export ZIP at `target`; returns the number of rows of each kind."""
    progress = progress or (lambda kind: None)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        writer = _Writer(archive, progress)
        archive.writestr("README.md", EXPORT_README)
        posts = Post.objects.defer("body_html").select_related("author").prefetch_related("tags")  # type: ignore[misc]
        for post in _each(posts, chunk=POST_CHUNK):  # bodies are the large rows
            archive.writestr(f"posts/{post.slug}.md", post_markdown(post))
        _write_data(writer, with_password_hashes)
        storage = files.public_storage()
        for name in _media_files():
            with storage.open(name, "rb") as source, archive.open("media/" + name, "w") as member:
                shutil.copyfileobj(source, member, 1024 * 1024)
        manifest = {"format": FORMAT, "version": VERSION, "exported_at": timezone.now().isoformat(),
                    "counts": writer.counts}  # fmt: skip
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return writer.counts


def _write_data(writer: _Writer, with_password_hashes: bool) -> None:
    writer.dump("users", _users(with_password_hashes))
    writer.dump("tags", _simple(Tag.objects.all(), ["name", "slug"]))
    writer.dump("posts", _posts())
    writer.dump("comments", _comments())
    writer.dump("comment_likes", _simple(CommentLike.objects.all(), ["created_at"], comment="pk", user="username"))
    writer.dump(
        "flags", _simple(Flag.objects.all(), ["reason", "note", "status", "created_at"], comment="pk", user="username")
    )
    writer.dump(
        "comment_revisions",
        _simple(CommentRevision.objects.all(), ["body", "written_at", "replaced_by", "created_at"], comment="pk"),
    )
    writer.dump("likes", _simple(Like.objects.all(), ["created_at"], post="slug", user="username", subscriber="email"))
    writer.dump(
        "shares",
        _simple(Share.objects.all(), ["network", "visitor_hash", "day", "created_at"], post="slug", user="username"),
    )
    writer.dump(
        "restacks",
        _simple(Restack.objects.all(), ["note", "note_held", "created_at", "updated_at"], post="slug", user="username"),
    )
    writer.dump(
        "referral_visits",
        _simple(ReferralVisit.objects.all(), ["visitor_hash", "day", "created_at"], referrer="username", post="slug"),
    )
    writer.dump("page_view_days", _simple(PageViewDay.objects.all(), ["day", "views", "visitors"], post="slug"))
    writer.dump("referrer_days", _simple(ReferrerDay.objects.all(), ["day", "source", "views"], post="slug"))
    writer.dump("link_clicks", _simple(LinkClick.objects.all(), ["url", "clicks"], post="slug"))
    writer.dump("subscribers", _subscribers())
    writer.dump("sends", _simple(Send.objects.all(), ["status", "paused_reason", "created_at"], post="slug"))
    writer.dump("digests", _digests())
    writer.dump("deliveries", _deliveries())
    writer.dump(
        "bans",
        _simple(
            Ban.objects.all(),
            ["handle", "email", "email_key", "ip", "reason", "until", "created_at", "lifted_at"],
            user="username",
            created_by="username",
        ),
    )
    writer.dump(
        "moderation_log",
        _simple(
            ModerationLog.objects.all(),
            ["moderator_handle", "action", "reason", "before", "after", "created_at"],
            moderator="username",
            comment="pk",
            subject="username",
        ),
    )
    writer.dump("moderation_settings", _moderation_settings())
    writer.dump("source_records", _source_records())


# --- Exports started on the desk --------------------------------------------


def perform_export(job_id: int) -> None:
    job = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).first()
    if job is None:
        return
    try:
        # Written on this worker's disk, then kept in private storage, which every web host can read.
        with tempfile.NamedTemporaryFile(suffix=".zip") as written:
            export_publication(Path(written.name))
            written.seek(0)
            name = files.save_private(f"exports/export-{job.pk}.zip", written)
    except Exception as error:
        logger.exception("export job %s failed", job_id)
        job.status, job.error = ExportJob.Status.FAILED, f"{type(error).__name__}: {error}"[:500]
    else:
        job.status, job.path = ExportJob.Status.DONE, name
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "path", "finished_at"])


def job_file(job: ExportJob) -> IO[bytes] | None:
    """The export's file, opened from private storage; None when it is gone."""
    if not job.path or not files.private_storage().exists(job.path):
        return None
    return files.private_storage().open(job.path, "rb")
