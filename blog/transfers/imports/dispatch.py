"""Restoring a Dispatch export (blog/transfers/exports.py) into an empty site.

Rows keep their dates, statuses, counters and links; people are matched by
handle, posts by slug, subscribers by e-mail. Nothing is sent: restored
sends and deliveries are history, written as they were.

A file is not trusted with power (docs/security.md, "Imports and restores"):
restoring takes a superuser or the command line; the accounts it creates get
no staff or superuser flag, no group and no password from it unless the
command line says the file is the operator's own (`trust_accounts`); accounts
that exist are left as they are; and media are only images (drawn again),
PDFs and audio."""

import io
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any

from allauth.account.models import EmailAddress
from django import forms
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model, Q
from django.utils.dateparse import parse_date, parse_datetime
from taggit.models import Tag

from accounts.images import COVER_MAX_SIDE, reencode
from accounts.models import User
from blog.models import (
    Ban,
    Comment,
    CommentLike,
    CommentRevision,
    Delivery,
    Digest,
    Flag,
    LegacyPath,
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
    SlugRedirect,
    SourceRecord,
    Subscriber,
)
from blog.models.comments import email_key
from blog.shared.rendering import render_markdown
from blog.transfers.imports.archive import ImportRefused, SafeZip
from blog.transfers.imports.steps import Importer

FORMAT = "dispatch-export"
VERSIONS = {1}
BATCH = 2000
MAX_LINE_CHARS = 1024**2  # one row; the longest, a comment, is 10,000 characters
# Keys of exported rows that name another object; each kind's `extra` resolves them.
RESOLVED_BY_EXTRA = {"post", "comment", "referrer", "day", "id", "send", "digest", "subscriber"}
# What a file may say about an account only when the command line trusts it.
PRIVILEGES = {"is_staff", "is_superuser", "password", "groups", "user_permissions"}
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp"}
# The other files a post may link, each known by its first bytes.
DOCUMENT_SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    ".pdf": lambda head: head.startswith(b"%PDF-"),
    ".mp3": lambda head: head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    ".m4a": lambda head: head[4:8] == b"ftyp",
    ".ogg": lambda head: head.startswith(b"OggS"),
    ".opus": lambda head: head.startswith(b"OggS"),
    ".wav": lambda head: head.startswith(b"RIFF") and head[8:12] == b"WAVE",
}
Row = dict[str, Any]


def matches(archive: SafeZip) -> bool:
    return "manifest.json" in archive.names


def _manifest(archive: SafeZip) -> Row:
    try:
        manifest = json.loads(archive.read("manifest.json", limit=1024**2))
    except (ValueError, UnicodeDecodeError) as error:
        raise ImportRefused(f"manifest.json is not JSON ({error}).") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ImportRefused("manifest.json does not describe a Dispatch export.")
    if manifest.get("version") not in VERSIONS:
        raise ImportRefused(f"This is a version {manifest.get('version')} export; this Dispatch reads version 1.")
    return manifest


def rows(archive: SafeZip, kind: str) -> Iterator[Row]:
    """The objects of data/<kind>.json, one a line, without loading the file."""
    name = f"data/{kind}.json"
    if name not in archive.names:
        return
    with io.TextIOWrapper(archive.open(name), encoding="utf-8") as text:
        number = 0
        while line := text.readline(MAX_LINE_CHARS + 1):
            number += 1
            if len(line) > MAX_LINE_CHARS:
                raise ImportRefused(f"{name} line {number} is longer than any row of an export; refused.")
            line = line.strip().rstrip(",")
            if line in ("[", "]", ""):
                continue
            try:
                yield json.loads(line)
            except ValueError as error:
                raise ImportRefused(f"{name} line {number} is not JSON ({error}).") from error


def _when(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _required_when(value: str | None) -> datetime:
    when = _when(value)
    if when is None:
        raise ImportRefused(f"“{value}” is not a date, where the export needs one.")
    return when


def _day(value: str | None) -> date | None:
    return parse_date(value) if value else None


class _Restore:
    def __init__(self, archive: SafeZip, importer: Importer, *, trust_accounts: bool) -> None:
        self.archive = archive
        self.importer = importer
        self.trust_accounts = trust_accounts
        self.users: dict[str, int] = {}
        self.posts: dict[str, int] = {}
        self.comments: dict[int, int] = {}
        self.subscribers: dict[str, int] = {}
        self.sends: dict[str, int] = {}
        self.digests: dict[int, int] = {}

    def user(self, handle: str | None) -> int | None:
        return self.users.get(handle) if handle else None

    def run(self) -> None:
        if Post.objects.exists() or Comment.objects.exists() or Subscriber.objects.exists():
            raise ImportRefused(
                "A Dispatch export is restored into an empty site; this one already has posts, comments or subscribers."
            )
        # Subscribers before engagement: a like from the newsletter may be a subscriber's.
        for step in (self.restore_users, self.restore_posts, self.restore_comments, self.restore_subscribers,
                     self.restore_engagement, self.restore_sending, self.restore_moderation, self.restore_media,
                     self.restore_records):  # fmt: skip
            step()
            self.importer.step()

    def restore_users(self) -> None:
        groups = {group.name: group for group in Group.objects.all()}
        for row in rows(self.archive, "users"):
            same = Q(username__iexact=row["username"]) | Q(email__iexact=row["email"])
            user = User.objects.filter(same).order_by("pk").first()  # e.g. the account made to restore with
            if user is None:
                user = self._new_user(row)
                if self.trust_accounts:
                    user.groups.add(*[groups[name] for name in row["groups"] if name in groups])
            else:
                self.importer.report.count("people", "skipped")  # as it is: no flag, group or password from the file
            self.users[row["username"]] = user.pk
        for row in rows(self.archive, "users"):
            if row["referred_by"]:
                User.objects.filter(pk=self.users[row["username"]]).update(referred_by=self.user(row["referred_by"]))

    def _new_user(self, row: Row) -> User:
        fields = {k: v for k, v in row.items() if k not in {"addresses", "referred_by", *PRIVILEGES}}
        fields.update(date_joined=_when(row["date_joined"]), last_login=_when(row["last_login"]))
        if self.trust_accounts:
            fields.update(is_staff=bool(row.get("is_staff")), is_superuser=bool(row.get("is_superuser")))
        user = User(**fields)
        user.password = (row.get("password") or "") if self.trust_accounts else ""
        if not user.password:
            user.set_unusable_password()
        user.save()
        self.importer.report.count("people", "created")
        for address in row["addresses"]:
            EmailAddress.objects.create(user=user, **address)
        return user

    def restore_posts(self) -> None:
        for row in rows(self.archive, "tags"):
            Tag.objects.get_or_create(name=row["name"], defaults={"slug": row["slug"]})
        for row in rows(self.archive, "posts"):
            body = self._body(row["slug"])
            post = Post(
                author_id=self.users[row["author"]],
                body=body,
                cover=row["cover"],
                **{
                    k: row[k]
                    for k in (
                        "slug",
                        "title",
                        "subtitle",
                        "status",
                        "excerpt",
                        "cover_alt",
                        "comments_open",
                        "like_count",
                        "share_count",
                        "restack_count",
                    )
                },
                published_at=_when(row["published_at"]),
                created_at=_required_when(row["created_at"]),
                updated_at=_required_when(row["updated_at"]),
            )
            post.save()
            post.tags.set(row["tags"])
            SlugRedirect.objects.bulk_create(SlugRedirect(old_slug=slug, post=post) for slug in row["old_slugs"])
            LegacyPath.objects.bulk_create(LegacyPath(path=path, post=post) for path in row["legacy_paths"])
            self.posts[row["slug"]] = post.pk
            self.importer.report.count("posts", "created")

    def _body(self, slug: str) -> str:
        name = f"posts/{slug}.md"
        if name not in self.archive.names:
            raise ImportRefused(f"posts.json names a post “{slug}” but the ZIP has no {name}.")
        text = self.archive.read(name).decode("utf-8")
        if not text.startswith("---\n") or "\n---\n" not in text[4:]:
            raise ImportRefused(f"{name} has no front matter.")
        return text[4:].split("\n---\n", 1)[1].removeprefix("\n")

    def restore_comments(self) -> None:
        links: list[tuple[int, int | None, int | None]] = []
        for row in rows(self.archive, "comments"):
            comment = Comment.objects.create(
                post_id=self.posts[row["post"]],
                author_id=self.users[row["author"]],
                body_html=render_markdown(row["body"], comment=True),
                created_at=_required_when(row["created_at"]),
                edited_at=_when(row["edited_at"]),
                **{
                    k: row[k]
                    for k in (
                        "level",
                        "body",
                        "status",
                        "reasons",
                        "is_deleted",
                        "is_pinned",
                        "like_count",
                        "flag_count",
                        "ip",
                    )
                },
            )
            self.comments[row["id"]] = comment.pk
            self.importer.commented(comment.post_id)
            links.append((comment.pk, row["reply_to"], row["parent"]))
            self.importer.report.count("comments", "created")
        for pk, reply_to, parent in links:
            if reply_to or parent:
                Comment.objects.filter(pk=pk).update(
                    reply_to=self.comments.get(reply_to or 0), parent=self.comments.get(parent or 0)
                )

    def restore_engagement(self) -> None:
        self._bulk(CommentLike, "comment_likes", lambda r: {"comment_id": self.comments[r["comment"]]})
        self._bulk(Flag, "flags", lambda r: {"comment_id": self.comments[r["comment"]]})
        self._bulk(CommentRevision, "comment_revisions", lambda r: {"comment_id": self.comments[r["comment"]]})
        self._bulk(Like, "likes", lambda r: {"post_id": self.posts[r["post"]], "subscriber_id": self._subscriber(r)})
        self._bulk(Share, "shares", lambda r: {"post_id": self.posts[r["post"]], "day": _day(r["day"])})
        self._bulk(
            Restack,
            "restacks",
            lambda r: {
                "post_id": self.posts[r["post"]],
                "note_html": render_markdown(r["note"], comment=True) if r["note"] else "",
            },
        )
        self._bulk(
            ReferralVisit,
            "referral_visits",
            lambda r: {
                "referrer_id": self.user(r["referrer"]),
                "post_id": self.posts.get(r["post"]),
                "day": _day(r["day"]),
            },
        )
        self._bulk(PageViewDay, "page_view_days", self._post_and_day)
        self._bulk(ReferrerDay, "referrer_days", self._post_and_day)
        self._bulk(LinkClick, "link_clicks", lambda r: {"post_id": self.posts[r["post"]]})

    def _subscriber(self, row: Row) -> int | None:
        """A like from the newsletter by a subscriber without an account names them by e-mail."""
        return self.subscribers.get((row.get("subscriber") or "").lower())

    def _post_and_day(self, row: Row) -> Row:
        """Insights rows: a post (none for the home page) and a day."""
        return {"post_id": self.posts[row["post"]] if row["post"] else None, "day": _day(row["day"])}

    def _bulk(self, model: type[Model], kind: str, extra: Callable[[Row], Row]) -> int:
        """Rows of a kind in batches; `user`/`created_by`/... handles resolve to accounts."""
        batch, count = [], 0
        user_fields = {"user", "created_by", "moderator", "subject", "referred_by"}
        date_fields = {f.name for f in model._meta.concrete_fields if f.get_internal_type() == "DateTimeField"}
        for row in rows(self.archive, kind):
            fields = {k: v for k, v in row.items() if k not in RESOLVED_BY_EXTRA}
            for name in user_fields & fields.keys():
                fields[f"{name}_id"] = self.user(fields.pop(name))
            for name in date_fields & fields.keys():
                fields[name] = _when(fields[name])
            fields.update(extra(row))
            batch.append(model(**fields))
            count += 1
            if len(batch) >= BATCH:
                model._default_manager.bulk_create(batch)
                batch.clear()
        model._default_manager.bulk_create(batch)
        self.importer.report.count(kind.replace("_", " "), "created", count)
        return count

    def restore_subscribers(self) -> None:
        self._bulk(Subscriber, "subscribers", lambda r: {})
        self.subscribers = {email.lower(): pk for pk, email in Subscriber.objects.values_list("pk", "email")}

    def restore_sending(self) -> None:
        self._bulk(Send, "sends", lambda r: {"post_id": self.posts[r["post"]]})
        self.sends = {slug: pk for pk, slug in Send.objects.values_list("pk", "post__slug")}
        for row in rows(self.archive, "digests"):
            digest = Digest.objects.create(
                subscriber_id=self.subscribers[row["subscriber"].lower()],
                period=row["period"],
                created_at=_required_when(row["created_at"]),
            )
            digest.posts.set([self.posts[slug] for slug in row["posts"]])
            self.digests[row["id"]] = digest.pk
        self._bulk(
            Delivery,
            "deliveries",
            lambda r: {
                "send_id": self.sends.get(r["send"]) if r["send"] else None,
                "digest_id": self.digests.get(r["digest"]) if r["digest"] else None,
                "subscriber_id": self.subscribers[r["subscriber"].lower()],
            },
        )

    def restore_moderation(self) -> None:
        # Written in bulk (no save()): the ban's matching key is worked out here, also for older exports.
        self._bulk(Ban, "bans", lambda r: {"email_key": email_key(r["email"]) if r.get("email") else ""})
        self._bulk(
            ModerationLog,
            "moderation_log",
            lambda r: {
                "comment_id": self.comments.get(r["comment"]),
                "moderator_handle": r.get("moderator_handle") or r.get("moderator") or "",
            },
        )
        for row in rows(self.archive, "moderation_settings"):
            ModerationSettings.objects.update_or_create(
                pk=1, defaults={**row, "moderators_notified_at": _when(row["moderators_notified_at"])}
            )

    def restore_media(self) -> None:
        """Images (drawn again), PDFs and audio; anything else (an .html, a .js, an .svg) would be served
        from the site's own origin, so it is left out. Files are not part of the transaction: a dry
        run writes none, a refused restore takes its own back."""
        names = [name for name in self.archive.names if name.startswith("media/")]
        for name in names:
            data = self._media_file(name)
            if data is None:
                self.importer.report.count("media files", "skipped")
                continue
            self.importer.report.count("media files", "created")
            target = name.removeprefix("media/")
            if not self.importer.dry_run and not default_storage.exists(target):
                self.importer.images.written.append(default_storage.save(target, ContentFile(data)))

    def _media_file(self, name: str) -> bytes | None:
        """What is stored of a file of the export's media/, or None (and a line in the report)."""
        extension = PurePosixPath(name).suffix.lower()
        if extension not in IMAGE_EXTENSIONS and extension not in DOCUMENT_SIGNATURES:
            self.importer.problem(f"{name} is not an image, PDF or audio file; left out.")
            return None
        data = self.archive.read(name)
        if extension in DOCUMENT_SIGNATURES:
            if DOCUMENT_SIGNATURES[extension](data[:16]):
                return data
            self.importer.problem(f"{name} is not the {extension[1:].upper()} file its name says; left out.")
            return None
        try:
            return bytes(reencode(SimpleUploadedFile(name, data), max_side=COVER_MAX_SIDE).read())
        except forms.ValidationError as error:
            self.importer.problem(f"{name}: {error.messages[0]} Left out.")
            return None

    def restore_records(self) -> None:
        for row in rows(self.archive, "source_records"):
            object_id = self.posts.get(row["object"]) if row["kind"] == "post" else self.comments.get(row["object"])
            if object_id:
                SourceRecord.objects.create(
                    source=row["source"], site=row.get("site", ""), kind=row["kind"], source_id=row["source_id"],
                    digest=row["digest"],
                    object_id=object_id,
                )  # fmt: skip


def load(archive: SafeZip, importer: Importer, *, trust_accounts: bool = False) -> None:
    """`trust_accounts`: the command line's word that the file is the operator's own export."""
    if not (importer.operator or (importer.user is not None and importer.user.is_superuser)):
        raise ImportRefused(
            "Restoring a whole Dispatch export takes a superuser (or manage.py import_publication on the server)."
        )
    _manifest(archive)
    importer.total = 9
    _Restore(archive, importer, trust_accounts=trust_accounts and importer.operator).run()
