"""Full-text search: the one place that decides what matches a query, in what
order, and which passage is shown.

Readers type queries as they would into a search engine: words, "exact
phrases", -excluded words and OR. On PostgreSQL, websearch_to_tsquery reads
them (it never raises on odd punctuation) against a stored, GIN-indexed,
weighted tsvector: title A, subtitle and tags B, body (with its block quotes
and footnotes) C, author D; results are ranked on a second, small vector of
the same without the body, then by date. Both are rebuilt by `index_posts`,
which the signals in blog/apps.py call on every save of a post, its tags or
its author. On SQLite (`make run`) the same functions scan the columns with
LIKE: slower and without stemming, but the same interface, query syntax and
order. Passages are cut and highlighted in Python, the same on both.
"""

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import Case, Expression, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.aggregates import StringAgg
from django.db.models.functions import Concat
from django.utils.safestring import SafeString, mark_safe
from taggit.models import TaggedItem

from accounts.models import User
from blog.models import Comment, Post, PostQuerySet

MAX_QUERY_LENGTH = 200
# Private-use characters mark the matched words, so that the text can be
# escaped as a whole before they become <mark> tags.
START, STOP = "\ue000", "\ue001"
PASSAGE_WORDS = 40
WORD = re.compile(r"\w+")
TOKEN = re.compile(r'-?"[^"]*"?|\S+')
# Control characters (NUL above all) make PostgreSQL refuse the whole query.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass
class Query:
    """A reader's query, cleaned: `groups` must all match (each group is a set
    of alternatives joined by OR); `excluded` must not match."""

    text: str
    groups: list[list[str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    shortened: bool = False

    @property
    def is_searchable(self) -> bool:
        return bool(self.groups)

    @property
    def terms(self) -> list[str]:
        return [term for group in self.groups for term in group]


def parse(raw: str) -> Query:
    """Read a query the way websearch_to_tsquery does; punctuation that means
    nothing to it (parentheses, &, :*, lone quotes) is ignored, never an error."""
    text = " ".join(CONTROL.sub(" ", raw or "").split())
    query = Query(text=text[:MAX_QUERY_LENGTH].strip(), shortened=len(text) > MAX_QUERY_LENGTH)
    pending_or = False
    for token in TOKEN.findall(query.text):
        if token.lower() == "or":
            pending_or = bool(query.groups)
            continue
        negative = token.startswith("-")
        term = " ".join(WORD.findall(token.lower()))
        if not term:
            continue
        if negative:
            query.excluded.append(term)
        elif pending_or:
            query.groups[-1].append(term)
        else:
            query.groups.append([term])
        pending_or = False
    return query


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _config() -> str:
    return settings.SEARCH_CONFIG


def _ts_query(query: Query) -> SearchQuery:
    return SearchQuery(query.text, search_type="websearch", config=_config())


# --- Posts -------------------------------------------------------------------


def search_posts(query: Query, posts: PostQuerySet) -> PostQuerySet:
    """`posts` that match, best first. Pass `Post.objects.published()` for readers.

    Rank comes from the heading (title A, subtitle and tags B, author D), then
    recency: a post with the words in its title comes before one that has
    them only in the body. Ranking on the heading alone keeps the cost flat:
    it is small and stored inline, while the full vector of a long post is
    kilobytes out of line and reading it for thousands of matches is slow."""
    if not query.is_searchable:
        return posts.none()
    rank: Expression
    if _is_postgres():
        ts_query = _ts_query(query)
        matched, rank = posts.filter(search_vector=ts_query), SearchRank(F("search_heading"), ts_query)
    else:
        fields = ["title", "subtitle", "body_text", "author__display_name", "author__username"]
        matched, rank = _scan(query, posts, fields), _scan_rank(query)
    newest_first = [F("published_at").desc(nulls_first=True), F("pk").desc()]
    deferred = matched.defer("search_vector", "search_heading", "body", "body_html")
    return deferred.alias(rank=rank).order_by(F("rank").desc(), *newest_first)


@dataclass
class Hit:
    """A post on a results page, with safe HTML in which the matched words are in <mark>."""

    post: Post
    title: SafeString
    subtitle: SafeString
    passage: SafeString  # the body around the first match


def hits(posts: Iterable[Post], query: Query) -> list[Hit]:
    """The results page's posts with their highlights. Words match by their
    start, so that "vote" marks "voted" as PostgreSQL's stemming found it."""
    pattern = _highlight_pattern(query.terms)
    return [
        Hit(
            post=post,
            title=marks_to_html(_mark(post.title, pattern)),
            subtitle=marks_to_html(_mark(post.subtitle, pattern)),
            passage=marks_to_html(_passage(post.body_text, pattern)),
        )
        for post in posts
    ]


def results_page(query: Query, posts: PostQuerySet, number: str | None, per_page: int) -> tuple[Page[Post], list[Hit]]:
    """One page of `search_posts`, and its hits, read in one transaction.

    PostgreSQL's planner prices `@@` as if the vector were in the row; it is
    kilobytes out of line (TOAST), so for a common word it may choose to read
    the whole table rather than the GIN index: a second instead of 20 ms at
    10,000 posts. Table scans are ruled out for this transaction only."""
    with transaction.atomic():
        if _is_postgres():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        page = Paginator(search_posts(query, posts), per_page).get_page(number)
        return page, hits(page, query)


def marks_to_html(text: str) -> SafeString:
    """Escape everything, then turn the highlight markers into <mark> tags."""
    escaped = html.escape(text or "", quote=False)
    return mark_safe(escaped.replace(START, "<mark>").replace(STOP, "</mark>"))  # escaped above


def index_posts(post_ids: Iterable[int] | None = None) -> int:
    """Rebuild the stored search vector of these posts (all when None) in one
    UPDATE. Nothing to do on SQLite, which scans instead."""
    if not _is_postgres():
        return 0
    posts = Post.objects.all() if post_ids is None else Post.objects.filter(pk__in=list(post_ids))
    heading, body = _post_vectors()
    return posts.update(search_heading=heading, search_vector=heading + body)


def _post_vectors() -> tuple[Expression, Expression]:
    """The heading (title A, subtitle and tags B, author D) and the body (C)."""
    config = _config()
    tag_names = (
        TaggedItem.objects.filter(object_id=OuterRef("pk"), content_type=ContentType.objects.get_for_model(Post))
        .values("object_id")
        .annotate(names=StringAgg("tag__name", Value(" ")))
        .values("names")
    )
    author_name = User.objects.filter(pk=OuterRef("author_id")).annotate(
        full_name=Concat("display_name", Value(" "), "username")
    )
    heading = (
        SearchVector("title", weight="A", config=config)
        + SearchVector("subtitle", weight="B", config=config)
        + SearchVector(Subquery(tag_names), weight="B", config=config)
        + SearchVector(Subquery(author_name.values("full_name")), weight="D", config=config)
    )
    return heading, SearchVector("body_text", weight="C", config=config)


# --- Comments (moderators) ---------------------------------------------------


def search_comments(query: Query, comments: QuerySet[Comment]) -> QuerySet[Comment]:
    """`comments` whose text or author matches, in their existing order. The
    moderation queue and log are small enough to read without a stored vector."""
    if not query.is_searchable:
        return comments.none()
    if _is_postgres():
        vector = SearchVector("body", "author__username", "author__display_name", config=_config())
        return comments.annotate(search=vector).filter(search=_ts_query(query))
    return _scan(query, comments, ["body", "author__username", "author__display_name"])


# --- SQLite: a plain scan ----------------------------------------------------


def _any_field(term: str, fields: list[str]) -> Q:
    match = Q()
    for name in fields:
        match |= Q(**{f"{name}__icontains": term})
    return match


def _tag_match(term: str) -> Q:
    tagged = TaggedItem.objects.filter(
        content_type=ContentType.objects.get_for_model(Post), tag__name__icontains=term
    ).values("object_id")
    return Q(pk__in=tagged)


def _scan[Scanned: QuerySet[Any]](query: Query, items: Scanned, fields: list[str]) -> Scanned:
    is_post = items.model is Post

    def matches(term: str) -> Q:
        return _any_field(term, fields) | _tag_match(term) if is_post else _any_field(term, fields)

    for group in query.groups:
        alternatives = Q()
        for term in group:
            alternatives |= matches(term)
        items = items.filter(alternatives)
    for term in query.excluded:
        items = items.exclude(matches(term))
    return items


def _scan_rank(query: Query) -> Expression:
    """Title matches weigh most, then subtitle, then body, as on PostgreSQL."""
    rank: Expression = Value(0)
    for term in query.terms:
        for name, weight in (("title", 8), ("subtitle", 4), ("body_text", 1)):
            rank = rank + Case(
                When(**{f"{name}__icontains": term}, then=Value(weight)), default=Value(0), output_field=IntegerField()
            )
    return rank


def _highlight_pattern(terms: list[str]) -> re.Pattern | None:
    def stem(word: str) -> str:
        return re.escape(word if len(word) <= 4 else word[: max(4, len(word) - 2)]) + r"\w*"

    alternatives = [r"\W+".join(stem(word) for word in term.split()) for term in terms]
    return re.compile(r"\b(?:" + "|".join(alternatives) + ")", re.IGNORECASE) if alternatives else None


def _mark(text: str, pattern: re.Pattern | None) -> str:
    return pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", text) if pattern else text


def _passage(text: str, pattern: re.Pattern | None) -> str:
    """About PASSAGE_WORDS words from a little before the first match."""
    found = pattern.search(text) if pattern else None
    words_before = text[: found.start()].split() if found else []
    start = max(0, len(words_before) - PASSAGE_WORDS // 3)
    words = text.split()
    passage = " ".join(words[start : start + PASSAGE_WORDS])
    ellipsis_before, ellipsis_after = ("… " if start else ""), (" …" if start + PASSAGE_WORDS < len(words) else "")
    return ellipsis_before + _mark(passage, pattern) + ellipsis_after


# --- Keeping the vector current (connected in blog/apps.py) -------------------


def on_post_saved(sender: type, instance: Post, **kwargs) -> None:
    index_posts([instance.pk])


def on_tags_changed(sender: type, instance: object, action: str, **kwargs) -> None:
    if isinstance(instance, Post) and action in ("post_add", "post_remove", "post_clear"):
        index_posts([instance.pk])


def on_author_saved(sender: type, instance: User, update_fields: Iterable[str] | None = None, **kwargs) -> None:
    if update_fields is None or {"display_name", "username"} & set(update_fields):
        index_posts(Post.objects.filter(author=instance).values_list("pk", flat=True))
