"""Full-text search: the one place that decides what matches a query, in what
order, and which passage is shown.

Readers type queries as they would into a search engine: words, "exact
phrases", -excluded words and OR. On PostgreSQL, websearch_to_tsquery reads
them (it never raises on odd punctuation) against a stored, GIN-indexed,
weighted tsvector: title A, subtitle and tags B, body (with its block quotes
and footnotes) C, author D; results are ranked on a second, small vector of
the same without the body, then by date; a third holds hashes of neighbouring
words, so that a phrase is checked only in the posts that have its pairs. All
three are rebuilt by `index_posts`, which the signals in blog/apps.py call on
every save of a post, its tags or its author. On SQLite (`make run`) the same functions scan the columns with
LIKE: slower and without stemming, but the same interface, query syntax and
order. Passages are cut and highlighted in Python, the same on both.
"""

import hashlib
import html
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, SearchVectorField
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Expression,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.aggregates import StringAgg
from django.db.models.functions import Concat
from django.utils.safestring import SafeString, mark_safe
from taggit.models import TaggedItem

from accounts.models import User
from blog.models import Comment, Post, PostQuerySet

MAX_QUERY_LENGTH = 200
# Large columns a results page never shows.
DEFERRED = ("search_vector", "search_heading", "search_pairs", "body", "body_html")
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

    @property
    def quoted(self) -> str:
        """The query as a sentence quotes it: a query that has quotes of its
        own (a phrase) is not wrapped in a second pair."""
        return self.text if '"' in self.text else f"“{self.text}”"


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
    config: str = settings.SEARCH_CONFIG
    return config


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
        matched, rank = (
            _with_word_pairs(query, posts.filter(search_vector=ts_query)),
            SearchRank(F("search_heading"), ts_query),
        )
    else:
        fields = ["title", "subtitle", "body_text", "author__display_name", "author__username"]
        matched, rank = _scan(query, posts, fields), _scan_rank(query)
    newest_first = [F("published_at").desc(nulls_first=True), F("pk").desc()]
    deferred = matched.defer(*DEFERRED)
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


@dataclass
class ResultsPage:
    """One page of results, with what the page links need."""

    number: int
    hits: list[Hit]
    count: int  # every match
    per_page: int

    def __iter__(self) -> Iterator[Post]:
        return (hit.post for hit in self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    @property
    def num_pages(self) -> int:
        return _pages(self.count, self.per_page)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_other_pages(self) -> bool:
        return self.num_pages > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def results_page(query: Query, posts: PostQuerySet, number: str | None, per_page: int) -> ResultsPage:
    """Page `number` of `search_posts` (the first when it is not a number, the
    last when past the end), read in one transaction.

    One query ranks the matches, counts them on the way (COUNT(*) OVER ()) and
    returns the page's ids; a second loads those posts. A separate count would
    read every match twice, and a count with a LIMIT lets the planner test the
    posts one by one, a second for a rare word.

    PostgreSQL's planner prices `@@` as if the vector were in the row; it is
    kilobytes out of line (TOAST), so for a common word it may choose to read
    the whole table rather than the GIN index: a second instead of 20 ms at
    10,000 posts. Table scans are ruled out for this transaction only."""
    page_number = _page_number(number)
    with transaction.atomic():
        if _is_postgres():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        ranked = search_posts(query, posts)
        ids, count = _ranked_ids(ranked, page_number, per_page)
        if not ids and page_number > 1:
            page_number = _pages(ranked.count(), per_page)
            ids, count = _ranked_ids(ranked, page_number, per_page)
        shown = posts.defer(*DEFERRED).in_bulk(ids)
    return ResultsPage(page_number, hits([shown[pk] for pk in ids], query), count, per_page)


def _ranked_ids(ranked: PostQuerySet, page_number: int, per_page: int) -> tuple[list[int], int]:
    """The ids on this page, best first, and the number of matches."""
    start = (page_number - 1) * per_page
    rows = list(ranked.annotate(count=Window(Count("*"))).values_list("pk", "count")[start : start + per_page])
    return [pk for pk, _ in rows], rows[0][1] if rows else 0


def _pages(count: int, per_page: int) -> int:
    return max(1, math.ceil(count / per_page))


def _page_number(number: str | None) -> int:
    return int(number) if number and number.isdigit() and 0 < int(number) < 100_000 else 1


def marks_to_html(text: str) -> SafeString:
    """Escape everything, then turn the highlight markers into <mark> tags."""
    escaped = html.escape(text or "", quote=False)
    return mark_safe(escaped.replace(START, "<mark>").replace(STOP, "</mark>"))  # escaped above


def index_posts(post_ids: Iterable[int] | None = None) -> int:
    """Rebuild the stored search vectors of these posts (all when None) in one
    UPDATE. Nothing to do on SQLite, which scans instead."""
    if not _is_postgres():
        return 0
    posts = Post.objects.all() if post_ids is None else Post.objects.filter(pk__in=list(post_ids))
    heading, body = _post_vectors()
    return posts.update(search_heading=heading, search_vector=heading + body, search_pairs=WordPairs(heading + body))


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


# --- Phrases: the word-pair index (PostgreSQL) --------------------------------
#
# GIN finds the posts that hold every word of a phrase but keeps no positions;
# checking the order means reading each one's whole vector (10-16 KB out of
# line, ~50 µs), 170 ms for a phrase of two words that a third of the posts
# hold. `Post.search_pairs` (GIN-indexed) holds a hash of every two words that
# stand next to each other, made by the SQL function blog_word_pairs()
# (migration 0014). A phrase looks its pairs up there first, and PostgreSQL
# checks the order only in the few posts that have them.

PAIR_HASH_DIGITS = 5  # hex digits of md5, as in blog_word_pairs() (migration 0014)
TSQUERY_TOKEN = re.compile(r"'((?:[^'\\]|''|\\.)*)'(:[*A-D]+)?|<->|<\d+>|[&|!()]")


class WordPairs(Func):
    """The neighbouring-word hashes of a search vector."""

    function = "blog_word_pairs"
    output_field = SearchVectorField()


class PairQuery(SearchQuery):
    """A tsquery of pair hashes, read as written: to_tsquery would split '00e0a' into '00e0' <-> 'a'."""

    template = "(%(expressions)s)::tsquery"


def _with_word_pairs(query: Query, matched: PostQuerySet) -> PostQuerySet:
    """`matched`, narrowed first to the posts that hold the query's phrases' word pairs."""
    if not any(" " in term for term in query.terms):  # no phrase, nor a word PostgreSQL reads as one ("co-op")
        return matched
    with connection.cursor() as cursor:
        cursor.execute("SELECT websearch_to_tsquery(%s::regconfig, %s)::text", [_config(), query.text])
        [(ts_query,)] = cursor.fetchall()
    required = required_pairs(ts_query)
    return matched.filter(search_pairs=PairQuery(required)) if required else matched


def required_pairs(ts_query: str) -> str | None:
    """A tsquery over pair hashes that every post matching `ts_query` (in
    PostgreSQL's text form) satisfies: one hash for each two words a phrase
    wants side by side (`'a' <-> 'b'`). None when the query says nothing about
    neighbours. It must never leave out a post that matches, so anything but a
    plain chain of words (negations, prefixes, groups inside a phrase) asks for
    no pairs."""
    return _TsQueryReader(ts_query).either().required()


def _pair_hash(first: str, second: str) -> str:
    return hashlib.md5(f"{first} {second}".encode(), usedforsecurity=False).hexdigest()[:PAIR_HASH_DIGITS]


def _combine(left: str | None, operator: str, right: str | None) -> str | None:
    """Join two requirements; None means "nothing required" (always true)."""
    if left is None or right is None:
        return (left or right) if operator == "&" else None
    return f"( {left} ) {operator} ( {right} )"


@dataclass
class _Part:
    """Part of a tsquery: what it requires of the pair index, and, when it is a
    plain phrase, its words with the distances between them."""

    requires: str | None = None
    chain: list[str | int] | None = None

    def required(self) -> str | None:
        chain = self.chain or []
        pairs = [
            f"'{_pair_hash(str(chain[i - 1]), str(chain[i + 1]))}'" for i in range(1, len(chain), 2) if chain[i] == 1
        ]
        return _combine(self.requires, "&", " & ".join(pairs) or None)


class _TsQueryReader:
    """Reads PostgreSQL's text form of a tsquery: `!` binds tightest, then the
    phrase operators (<->, <N>, left to right), then &, then |."""

    def __init__(self, text: str) -> None:
        self.tokens = list(TSQUERY_TOKEN.finditer(text))
        self.at = 0

    def _peek(self) -> str:
        return self.tokens[self.at].group(0) if self.at < len(self.tokens) else ""

    def either(self) -> _Part:
        part = self.both()
        while self._peek() == "|":
            self.at += 1
            part = _Part(_combine(part.required(), "|", self.both().required()))
        return part

    def both(self) -> _Part:
        part = self.phrase()
        while self._peek() == "&":
            self.at += 1
            part = _Part(_combine(part.required(), "&", self.phrase().required()))
        return part

    def phrase(self) -> _Part:
        part = self.single()
        while (operator := self._peek()).startswith("<"):
            self.at += 1
            right = self.single()
            distance = 1 if operator == "<->" else int(operator[1:-1])
            if part.chain is not None and right.chain is not None:  # plain words: one longer chain
                part = _Part(chain=[*part.chain, distance, *right.chain])
            else:  # both sides must still match, so their own requirements hold
                part = _Part(_combine(part.required(), "&", right.required()))
        return part

    def single(self) -> _Part:
        if self.at >= len(self.tokens):
            return _Part()
        token = self.tokens[self.at]
        self.at += 1
        if token.group(0) == "!":
            self.single()
            return _Part()
        if token.group(0) == "(":
            part = self.either()
            self.at += 1  # ")"
            return part
        if token.group(1) is None or token.group(2):  # a stray operator, or a prefix/weighted word
            return _Part()
        return _Part(chain=[re.sub(r"''|\\(.)", lambda m: m.group(1) or "'", token.group(1))])


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


def _highlight_pattern(terms: list[str]) -> re.Pattern[str] | None:
    def stem(word: str) -> str:
        return re.escape(word if len(word) <= 4 else word[: max(4, len(word) - 2)]) + r"\w*"

    alternatives = [r"\W+".join(stem(word) for word in term.split()) for term in terms]
    return re.compile(r"\b(?:" + "|".join(alternatives) + ")", re.IGNORECASE) if alternatives else None


def _mark(text: str, pattern: re.Pattern[str] | None) -> str:
    return pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", text) if pattern else text


def _passage(text: str, pattern: re.Pattern[str] | None) -> str:
    """About PASSAGE_WORDS words from a little before the first match."""
    found = pattern.search(text) if pattern else None
    words_before = text[: found.start()].split() if found else []
    start = max(0, len(words_before) - PASSAGE_WORDS // 3)
    words = text.split()
    passage = " ".join(words[start : start + PASSAGE_WORDS])
    ellipsis_before, ellipsis_after = ("… " if start else ""), (" …" if start + PASSAGE_WORDS < len(words) else "")
    return ellipsis_before + _mark(passage, pattern) + ellipsis_after


# --- Keeping the vector current (connected in blog/apps.py) -------------------


def on_post_saved(sender: type, instance: Post, **kwargs: Any) -> None:
    index_posts([instance.pk])


def on_tags_changed(sender: type, instance: object, action: str, **kwargs: Any) -> None:
    if isinstance(instance, Post) and action in ("post_add", "post_remove", "post_clear"):
        index_posts([instance.pk])


def on_author_saved(sender: type, instance: User, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
    if update_fields is None or {"display_name", "username"} & set(update_fields):
        index_posts(Post.objects.filter(author=instance).values_list("pk", flat=True))
