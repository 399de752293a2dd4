"""The steps every importer shares: the report, finding what an earlier run
created, and saving posts, subscribers, comments and people.

Rows are written directly, never through publish_post, the comment pipeline
or request_subscription: importing sends no e-mail to anyone and queues no
task. A post that was live elsewhere gets a finished Send, so that
publishing it again here does not mail it out."""

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from blog.discussion import threads
from blog.models import Comment, LegacyPath, Post, Send, SlugRedirect, SourceRecord, Subscriber
from blog.models.comments import MAX_LEVEL
from blog.posts.tagslugs import ascii_slug
from blog.shared.rendering import render_markdown
from blog.transfers.imports.conversion import html_to_markdown, plain_text
from blog.transfers.imports.media import ImageCopier

Progress = Callable[[int, int], None]
MAX_LISTED_PROBLEMS = 500


@dataclass
class Report:
    """What an import did (or, in a dry run, would do), and every row it could not take."""

    source: str = ""
    dry_run: bool = False
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    image_failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: str = ""

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        totals = self.counts.setdefault(kind, {"created": 0, "updated": 0, "skipped": 0})
        totals[outcome] += n

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Report":
        return cls(**data) if data else cls()

    def summary(self) -> list[str]:
        if self.refused:
            return [f"Nothing was imported: {self.refused}"]
        verb = "would be" if self.dry_run else "were"
        lines = [
            f"{kind}: {n['created']} {verb} created, {n['updated']} {verb} updated, {n['skipped']} skipped"
            for kind, n in self.counts.items()
        ]
        return lines + self.notes


@contextmanager
def given_timestamps() -> Iterator[None]:
    """Let imported rows keep their original dates, which auto_now(_add) would overwrite.

    Imports run one at a time in a worker or a command, so flipping the
    fields for the duration touches no concurrent request."""
    flipped = []
    for model in apps.get_app_config("blog").get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.DateTimeField) and (model_field.auto_now_add or model_field.auto_now):
                flipped.append((model_field, model_field.auto_now, model_field.auto_now_add))
                model_field.auto_now = model_field.auto_now_add = False
                model_field.default = timezone.now  # what a row not given a date gets
                model_field.__dict__.pop("_get_default", None)  # a cached_property of the default
    try:
        yield
    finally:
        for model_field, auto_now, auto_now_add in flipped:
            model_field.auto_now, model_field.auto_now_add = auto_now, auto_now_add
            model_field.default = models.NOT_PROVIDED
            model_field.__dict__.pop("_get_default", None)


def digest_of(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


@dataclass
class PostData:
    source_id: str
    title: str
    html: str
    author: User
    slug: str = ""
    subtitle: str = ""
    status: str = Post.Status.DRAFT
    published_at: datetime | None = None
    tags: list[str] = field(default_factory=list)
    excerpt: str = ""
    legacy_paths: list[str] = field(default_factory=list)
    markdown: str | None = None  # when the source has Markdown already
    cover_url: str = ""
    cover_alt: str = ""


@dataclass
class SubscriberData:
    line: int
    email: str
    status: str
    created_at: datetime | None
    frequency: str = Subscriber.Frequency.EACH_POST


@dataclass
class CommentData:
    source_id: str
    post: Post
    author: User
    html: str
    status: str
    created_at: datetime | None
    reply_to_source_id: str = ""


class Importer:
    """One import run: the shared writes, with the report and the progress bar.

    `user` is who imports (None: the command line). What they may touch is
    what they may do on the site (docs/security.md, "Imports and restores"):
    earlier imports' posts only if they may edit them, existing accounts only
    if they manage accounts; the command line (`operator`) may do all."""

    def __init__(
        self,
        source: str,
        report: Report,
        user: User | None,
        *,
        dry_run: bool,
        progress: Progress,
        site_data: bool,
        operator: bool = False,
    ) -> None:
        self.source = source
        self.site_data = site_data
        self.report = report
        self.user = user
        self.operator = operator or user is None
        self.dry_run = dry_run
        self.progress = progress
        self.images = ImageCopier(dry_run=dry_run, failures=report.image_failures)
        self.now = timezone.now()
        self.total = 0
        self.done = 0
        self.site = ""  # the exporting site, set by the loader: source ids are scoped to it
        self.link_rewriter: Callable[[str], str] | None = None
        self.old_site = ""  # Ghost's __GHOST_URL__ stands for this address, when the importer gives it
        self.unsubscribe_missing = False  # set by run_import: a newer list unsubscribes those it lacks
        self._tags_seen: dict[str, str] = {}
        self._merged: set[tuple[str, str]] = set()
        self._records: dict[str, dict[str, list[SourceRecord]]] = {}
        self._users: dict[str, User] = {}
        self._commented: set[int] = set()

    @property
    def takes_site_data(self) -> bool:
        """Subscribers, comments and other people's bylines: staff (or the command line) only."""
        return self.site_data

    def commented(self, post_id: int) -> None:
        """This post got comments: `finish` drops its cached comment list."""
        self._commented.add(post_id)

    def finish(self) -> None:
        """Signed-out readers' cached comment lists of the posts that got comments go, once this commits."""
        for post_id in sorted(self._commented):
            threads.changed(post_id)

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.done == self.total or self.done % 50 == 0:
            self.progress(self.done, self.total)

    def problem(self, message: str) -> None:
        """Listed up to MAX_LISTED_PROBLEMS: a file of a million bad rows must not make a report as large."""
        if len(self.report.problems) < MAX_LISTED_PROBLEMS:
            self.report.problems.append(message)
        elif len(self.report.problems) == MAX_LISTED_PROBLEMS:
            self.report.problems.append("More rows could not be taken; only the first ones are listed.")

    def past(self, when: datetime | None, what: str) -> datetime | None:
        """The date, unless it lies in the future (then reported, and None)."""
        if when is not None and when > self.now:
            self.problem(f"{what} is dated in the future ({when:%Y-%m-%d %H:%M}); not taken as its date.")
            return None
        return when

    @property
    def manages_accounts(self) -> bool:
        """May link the export's people to existing accounts by e-mail: the command line, or whoever may
        change accounts in the admin (superusers), who could give those accounts any address anyway."""
        return self.operator or (self.user is not None and self.user.has_perm("accounts.change_user"))

    def editable_posts(self) -> models.QuerySet[Post]:
        return Post.objects.all() if self.operator or self.user is None else Post.objects.editable_by(self.user)

    # --- Earlier runs -------------------------------------------------------

    def records(self, kind: str, source_id: str) -> list[SourceRecord]:
        """Every earlier run's record of this source id from this site, whoever
        imported it; rows saved before records named their site (site "") count
        as this site's."""
        if kind not in self._records:
            self._records[kind] = {}
            rows = SourceRecord.objects.filter(source=self.source, kind=kind, site__in=["", self.site])
            for row in rows.order_by("pk"):
                self._records[kind].setdefault(row.source_id, []).append(row)
        return self._records[kind].get(source_id, [])

    def earlier_post(self, source_id: str) -> tuple[SourceRecord | None, Post | None]:
        """The post an earlier run made of this source id, if this importer may edit it.

        Another author's post with the same id is not theirs to change: the import
        makes a new post, counted as created like any unknown id, so that a dry run
        tells nobody which ids others imported. A post deleted since is not brought
        back, which only those who may edit every post can know is the case."""
        records = self.records("post", source_id)
        posts = self.editable_posts().in_bulk([row.object_id for row in records])
        for row in records:
            if row.object_id in posts:
                return row, posts[row.object_id]
        everything = self.operator or (self.user is not None and self.user.has_perm("blog.change_any_post"))
        gone = next((row for row in records if row.object_id not in posts), None)
        return (gone, None) if everything else (None, None)

    def earlier_comment(self, source_id: str, post: Post) -> Comment | None:
        """The comment an earlier run made of this source id on this same post."""
        ids = [row.object_id for row in self.records("comment", source_id)]
        return Comment.objects.filter(pk__in=ids, post=post).first() if ids else None

    def remember(self, kind: str, source_id: str, object_id: int, digest: str) -> None:
        """What this run made of `source_id`: the record of that one object, now named by this site."""
        same = SourceRecord.objects.filter(
            source=self.source, kind=kind, source_id=source_id, object_id=object_id, site__in=["", self.site]
        )
        row = same.order_by("-site").first()  # this site's row before an unnamed one
        if row is None:
            row = SourceRecord.objects.create(
                source=self.source, site=self.site, kind=kind, source_id=source_id, object_id=object_id, digest=digest
            )
        else:
            SourceRecord.objects.filter(pk=row.pk).update(site=self.site, digest=digest)
            row.site, row.digest = self.site, digest
        known = self._records.setdefault(kind, {}).setdefault(source_id, [])
        known[:] = [other for other in known if other.object_id != object_id] + [row]

    # --- People -------------------------------------------------------------

    def person(self, email: str, name: str, handle: str = "", *, author: bool = False) -> User:
        """The account for an author (`author`) or commenter of the export.

        Matched by e-mail only for an importer who manages accounts, or to an
        account an import made that nobody has claimed; otherwise the person gets
        an account of their own, without a password (a reset link claims it).
        An import grants no role: an author's account bylines posts, nothing more."""
        email = email.strip() or f"{slugify(handle or name) or 'someone'}@imported.invalid"
        key = email.lower()
        if key not in self._users:
            user = User.objects.filter(email__iexact=email).first()
            if user is not None and not (self.manages_accounts or self._unclaimed(user)):
                # Someone's real account: the importer gets a look-alike of their own, never the account.
                email = f"{hashlib.sha256(key.encode()).hexdigest()[:20]}@imported.invalid"
                user = User.objects.filter(email__iexact=email).first()
            self._users[key] = user or self._new_user(email, name, handle)
        return self._users[key]

    @staticmethod
    def _unclaimed(user: User) -> bool:
        """Made by an import and never used: no password, never signed in, no role."""
        return (
            user.last_login is None
            and not user.has_usable_password()
            and not (user.is_staff or user.is_superuser or user.groups.exists())
        )

    def _new_user(self, email: str, name: str, handle: str) -> User:
        base = (slugify(handle or name or email.split("@")[0]) or "reader")[:24]
        taken = set(User.objects.filter(username__istartswith=base).values_list("username", flat=True))
        taken = {h.lower() for h in taken}
        candidate, n = base, 2
        while candidate.lower() in taken:
            candidate, n = f"{base}-{n}", n + 1
        user = User(username=candidate, email=email, display_name=name[:80])
        user.set_unusable_password()
        user.save()
        self.report.count("people", "created")
        return user

    # --- Posts --------------------------------------------------------------

    def body(self, html: str, title: str = "") -> str:
        dropped: list[str] = []
        markdown = html_to_markdown(html, self.images, dropped, self.rewrite_link)
        for what in sorted(set(dropped)):
            self.problem(f"“{title}”: {what} could not be kept and was left out.")
        return markdown

    def rewrite_link(self, href: str) -> str:
        """Links to the old site's subscribe and comment pages lead to Dispatch's (set by the loader)."""
        return self.link_rewriter(href) if self.link_rewriter else href

    def save_post(self, data: PostData) -> Post | None:
        data.title, data.subtitle = plain_text(data.title), plain_text(data.subtitle)
        if not data.title:
            data.title = self._title_from_body(data)
            if not data.title:
                self.problem(f"Post {data.source_id} has neither a title nor any text; skipped.")
                self.report.count("posts", "skipped")
                return None
            self.problem(f"Post {data.source_id} had no title; it is called “{data.title}” here.")
        digest = digest_of(data.title, data.subtitle, data.html, data.markdown, data.status, data.published_at,
                           sorted(data.tags), data.excerpt, data.cover_url)  # fmt: skip
        record, post = self.earlier_post(data.source_id)
        if record and post is None:
            self.report.count("posts", "skipped")  # deleted here since; not brought back
            return None
        if post and record and record.digest == digest:
            self.report.count("posts", "skipped")
            return post
        body = data.markdown if data.markdown is not None else self.body(data.html, data.title)
        status, published_at = self._status(data)
        fields = {
            "title": data.title.strip()[:200],
            "subtitle": data.subtitle.strip()[:300],
            "body": body,
            "excerpt": data.excerpt[:500],
        }
        if data.cover_url and not (post and post.cover):
            cover = self.images.copy(data.cover_url, f"“{data.title.strip()}” has no cover image")
            fields.update(cover=cover or "", cover_alt=data.cover_alt[:200] if cover else "")
        if post is None:
            post = Post(author=data.author, slug=self._free_slug(data), status=status, published_at=published_at,
                        **fields)  # fmt: skip
            post.save()
            self.report.count("posts", "created")
        else:
            for name, value in fields.items():
                setattr(post, name, value)
            post.updated_at = self.now
            post.save()
            self.report.count("posts", "updated")
        post.tags.set(self._tag_names(data.tags))
        if post.status == Post.Status.PUBLISHED:
            Send.objects.get_or_create(post=post, defaults={"status": Send.Status.DONE})
        for path in data.legacy_paths:
            self._keep_old_address(path, post)
        self.remember("post", data.source_id, post.pk, digest)
        return post

    def _keep_old_address(self, path: str, post: Post) -> None:
        """The old address leads here, unless it leads to a post this importer may not edit."""
        existing = LegacyPath.objects.filter(path=path).first()
        if existing is None:
            LegacyPath.objects.create(path=path, post=post)
        elif existing.post_id != post.pk and self.editable_posts().filter(pk=existing.post_id).exists():
            existing.post = post
            existing.save(update_fields=["post"])
        elif existing.post_id != post.pk:
            self.problem(f"The old address {path} leads to another post; it still does (“{post.title}” is not there).")

    def _tag_names(self, names: list[str]) -> list[str]:
        """Tags differ by more than case: "News" and "news" become one tag, named as first seen."""
        kept: list[str] = []
        for name in (name.strip()[:100] for name in names):
            if not name:
                continue
            first = self._tags_seen.setdefault(name.lower(), name)
            if first != name and (first, name) not in self._merged:
                self._merged.add((first, name))
                self.report.notes.append(f"The tags “{first}” and “{name}” differ only in case; they are one tag here.")
            if first.lower() not in {k.lower() for k in kept}:
                kept.append(first)
        return kept

    @staticmethod
    def _title_from_body(data: PostData) -> str:
        """An untitled post (WordPress allows them) is named by its first words."""
        words = plain_text(data.html or data.markdown or "").split()
        return " ".join(words[:8]) + ("…" if len(words) > 8 else "") if words else ""

    def _status(self, data: PostData) -> tuple[str, datetime | None]:
        if data.status == Post.Status.SCHEDULED:
            if data.published_at and data.published_at > self.now:
                return Post.Status.SCHEDULED, data.published_at
            self.problem(f"Post “{data.title}” was scheduled for a time now past; imported as a draft.")
        if data.status != Post.Status.PUBLISHED:
            return Post.Status.DRAFT, None
        when = self.past(data.published_at, f"Post “{data.title}”")
        if when is None:
            self.problem(f"Post “{data.title}” is imported as a draft: publish it when you are ready.")
            return Post.Status.DRAFT, None
        return Post.Status.PUBLISHED, when

    def _free_slug(self, data: PostData) -> str:
        wanted = ascii_slug(data.slug or data.title, "post", 180)
        taken = Post.objects.filter(slug=wanted).exists() or SlugRedirect.objects.filter(old_slug=wanted).exists()
        if not taken:
            return wanted
        slug = Post.unique_slug(wanted)
        self.problem(f"The address /p/{wanted}/ is taken by another post; “{data.title}” is at /p/{slug}/.")
        return slug

    # --- Subscribers --------------------------------------------------------

    def save_subscribers(self, rows: Iterable[SubscriberData], source_label: str, leavers_from: str = "") -> None:
        """Bulk, for lists of 100,000: one query for who is there, inserts in batches.

        With `leavers_from` (the label prefix of earlier imports from the same platform), active
        subscribers an earlier import brought who are missing from this list are reported, and
        unsubscribed only when the importer asked for it (`unsubscribe_missing`)."""
        existing = {
            email.lower(): (pk, status, source)
            for pk, email, status, source in Subscriber.objects.values_list("pk", "email", "status", "source")
        }
        seen: dict[str, int] = {}
        batch: list[Subscriber] = []
        for row in rows:
            self.step()
            email = row.email.strip()
            if not self._deliverable(email, row.line):
                continue
            key = email.lower()
            if key in seen:
                self.problem(f"Subscriber line {row.line}: {email} repeats line {seen[key]}; skipped.")
                continue
            seen[key] = row.line
            if key in existing:
                self._update_subscriber(existing[key], row, source_label)
                continue
            batch.append(self._new_subscriber(row, email, source_label))
            if len(batch) >= 2000:
                self._flush(batch)
        self._flush(batch)
        if leavers_from:
            self._missing_subscribers(existing, seen, leavers_from)

    def _deliverable(self, email: str, line: int) -> bool:
        """A valid address; one with letters beyond ASCII (ömil@…) is kept and noted, since only
        mail servers that speak SMTPUTF8 deliver to it."""
        local, _, domain = email.rpartition("@")
        ascii_form = re.sub(r"[^\x00-\x7f]", "a", local) + "@" + domain if not email.isascii() else email
        try:
            validate_email(ascii_form)
        except ValidationError:
            self.problem(f"Subscriber line {line}: “{email}” is not a valid e-mail address; skipped.")
            return False
        if not email.isascii():
            self.problem(
                f"Subscriber line {line}: {email} has letters beyond ASCII; kept, but it gets mail only "
                "if your mail server supports SMTPUTF8."
            )
        return True

    def _missing_subscribers(
        self, existing: dict[str, tuple[int, str, str]], seen: dict[str, int], prefix: str
    ) -> None:
        active = Subscriber.Status.ACTIVE
        missing = [(pk, email) for email, (pk, status, source) in existing.items()
                   if email not in seen and status == active and source.startswith(prefix)]  # fmt: skip
        if not missing:
            return
        names = ", ".join(email for _, email in sorted(missing, key=lambda m: m[1])[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        if self.unsubscribe_missing:
            Subscriber.objects.filter(pk__in=[pk for pk, _ in missing]).update(
                status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=self.now
            )
            self.report.count("subscribers", "updated", len(missing))
            self.report.notes.append(
                f"{len(missing)} subscribers from an earlier import are not in this list and were unsubscribed: "
                f"{names}{more}."
            )
            return
        self.report.notes.append(
            f"{len(missing)} subscribers from an earlier import are not in this list: {names}{more}. They are "
            "still subscribed here; import again with “unsubscribe those missing” (--unsubscribe-missing) "
            "to unsubscribe them."
        )

    def _new_subscriber(self, row: SubscriberData, email: str, source_label: str) -> Subscriber:
        created = self.past(row.created_at, f"Subscriber {email}") or self.now
        active = row.status == Subscriber.Status.ACTIVE
        return Subscriber(
            email=email,
            status=row.status,
            frequency=row.frequency,
            source=source_label[:120],
            created_at=created,
            confirmed_at=created if active else None,
            unsubscribed_at=None if active else self.now,
            last_digest_at=self.now,  # no digest of the archive they already read
        )

    def _update_subscriber(self, existing: tuple[int, str, str], row: SubscriberData, source_label: str) -> None:
        """Someone who left on the old platform since the last import leaves here too; nobody is re-activated."""
        pk, status, source = existing
        label_prefix = source_label.rsplit(" ", 1)[0]
        if (
            row.status != Subscriber.Status.ACTIVE
            and status == Subscriber.Status.ACTIVE
            and source.startswith(label_prefix)
        ):
            Subscriber.objects.filter(pk=pk).update(status=row.status, unsubscribed_at=self.now)
            self.report.count("subscribers", "updated")
        else:
            self.report.count("subscribers", "skipped")

    def _flush(self, batch: list[Subscriber]) -> None:
        if batch:
            Subscriber.objects.bulk_create(batch, batch_size=2000)
            self.report.count("subscribers", "created", len(batch))
            batch.clear()

    # --- Comments -----------------------------------------------------------

    def save_comment(self, data: CommentData) -> Comment | None:
        earlier = self.earlier_comment(data.source_id, data.post)
        if earlier:
            self.report.count("comments", "skipped")
            return earlier
        reply_to = None
        if data.reply_to_source_id:
            reply_to = self.earlier_comment(data.reply_to_source_id, data.post)
            if reply_to is None:
                self.problem(f"Comment {data.source_id} answers a comment that is not in the export; shown on its own.")
        body = html_to_markdown(data.html).strip() or "(empty)"
        level = min(reply_to.level + 1, MAX_LEVEL) if reply_to else 1
        parent = (reply_to if reply_to.level < MAX_LEVEL else reply_to.parent) if reply_to else None
        comment = Comment.objects.create(
            post=data.post,
            author=data.author,
            reply_to=reply_to,
            parent=parent,
            level=level,
            body=body[:10_000],
            body_html=render_markdown(body[:10_000], comment=True),
            status=data.status,
            created_at=self.past(data.created_at, f"Comment {data.source_id}") or self.now,
        )
        self.remember("comment", data.source_id, comment.pk, "")
        self.commented(data.post.pk)
        self.report.count("comments", "created")
        return comment
