"""Search: readers on /search/, authors on the desk, moderators in the queue and log.

Runs on SQLite (the plain scan) in the fast loop and on PostgreSQL (the stored
tsvector) when DATABASE_URL names it; the behaviour must be the same."""

import random
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from blog.models import Comment, ModerationLog, Post
from blog.posts import search
from blog.shared import ratelimits, sitesettings
from tests.factories import make_post

URL = reverse("blog:search")


def titles(response) -> list[str]:
    return [post.title for post in response.context["page"]]


def test_it_ranks_a_title_match_above_a_single_body_mention(client, ada) -> None:
    make_post(ada, "Weather report", body="Sunny. " * 40 + "Someone mentioned the harbour once.")
    make_post(ada, "The harbour vote", body="A council decided things. " * 20)
    assert titles(client.get(URL, {"q": "harbour"})) == ["The harbour vote", "Weather report"]


def test_title_outranks_subtitle_outranks_body(client, ada) -> None:
    make_post(ada, "Body", body="About the lighthouse.")
    make_post(ada, "Subtitle", subtitle="About the lighthouse")
    make_post(ada, "The lighthouse")
    assert titles(client.get(URL, {"q": "lighthouse"})) == ["The lighthouse", "Subtitle", "Body"]


def test_drafts_and_scheduled_posts_never_appear_in_public_results(client, ada) -> None:
    make_post(ada, "Harbour draft", status=Post.Status.DRAFT)
    make_post(ada, "Harbour later", status=Post.Status.SCHEDULED, published_at="2999-01-01T00:00:00Z")
    make_post(ada, "Harbour live")
    response = client.get(URL, {"q": "harbour"})
    assert titles(response) == ["Harbour live"]
    assert "Harbour draft" not in response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subtitle", "Why the ferry timetable matters"),
        ("body", "Intro.\n\n> The ferry timetable is a promise.\n\nOutro."),
        ("body", "Intro with a source.[^1]\n\n[^1]: The ferry timetable of 1998."),
    ],
    ids=["subtitle", "block quote", "footnote"],
)
def test_it_finds_words_in_subtitle_quotes_and_footnotes(client, ada, field, value) -> None:
    make_post(ada, "Unrelated title", **{field: value})
    assert titles(client.get(URL, {"q": "timetable"})) == ["Unrelated title"]


def test_it_finds_posts_by_tag_and_by_author_name(client, ada, bo) -> None:
    tagged = make_post(bo, "Budget lines")
    tagged.tags.add("shipping")
    make_post(ada, "Something else")
    assert titles(client.get(URL, {"q": "shipping"})) == ["Budget lines"]
    assert titles(client.get(URL, {"q": "Whitlock"})) == ["Something else"]


def test_exact_phrase_exclusion_and_or(client, ada) -> None:
    make_post(ada, "One", body="The harbour vote was close.")
    make_post(ada, "Two", body="The vote on the harbour was close.")
    make_post(ada, "Three", body="Rail strike news.")
    assert titles(client.get(URL, {"q": '"harbour vote"'})) == ["One"]
    assert sorted(titles(client.get(URL, {"q": "harbour -close"}))) == []
    assert sorted(titles(client.get(URL, {"q": "vote -harbour"}))) == []
    assert sorted(titles(client.get(URL, {"q": "harbour OR strike"}))) == ["One", "Three", "Two"]
    assert sorted(titles(client.get(URL, {"q": "harbour OR strike -rail"}))) == ["One", "Two"]


def test_the_matching_passage_is_highlighted_and_escaped(client, ada) -> None:
    make_post(ada, "Ferries <b>now</b>", body="Long intro. " * 30 + "The ferry timetable changed in May.")
    response = client.get(URL, {"q": "timetable"})
    [hit] = response.context["hits"]
    assert "ferry <mark>timetable</mark> changed" in hit.passage
    assert hit.passage.startswith("… ")
    assert "Ferries &lt;b&gt;now&lt;/b&gt;" in response.text
    assert "<b>now</b>" not in response.text


def test_results_are_paginated_and_keep_the_query(client, ada) -> None:
    for n in range(12):
        make_post(ada, f"Harbour note {n}")
    first = client.get(URL, {"q": "harbour"})
    assert len(first.context["page"]) == 10
    assert "12 posts found" in first.text
    assert 'href="?q=harbour&amp;page=2"' in first.text
    assert len(client.get(URL, {"q": "harbour", "page": "2"}).context["page"]) == 2
    assert len(client.get(URL, {"q": "harbour", "page": "nonsense"}).context["page"]) == 10


def test_a_page_past_the_end_shows_the_last(client, ada) -> None:
    for n in range(12):
        make_post(ada, f"Harbour note {n}")
    response = client.get(URL, {"q": "harbour", "page": "7"})
    assert response.context["page"].number == 2
    assert "Page 2 of 2" in response.text


def test_the_header_has_a_search_box_that_works_without_javascript(client, ada) -> None:
    response = client.get(reverse("blog:home"))
    assert f'action="{URL}"' in response.text
    assert 'role="search"' in response.text
    assert 'name="q"' in response.text


@pytest.mark.parametrize(
    "q",
    ['"', "(", ":*", "&", "|", "!", "'", "\\", "<->", "harbour:*", "(harbour", "harbour & (",
     "'; DROP TABLE blog_post; --", "a\x00b", "-", "- -", "OR", "OR OR", '"unclosed phrase', "%", "_",
     "💥", "harbour\x00"],
)  # fmt: skip
def test_syntax_breaking_queries_give_a_page_never_an_error(client, ada, q) -> None:
    make_post(ada, "The harbour vote")
    response = client.get(URL, {"q": q})
    assert response.status_code == 200
    assert Post.objects.count() == 1


@pytest.mark.parametrize("q", ['"', "(", ":*", "&", "-", "OR", "   "])
def test_a_query_with_nothing_to_search_for_says_so(client, ada, q) -> None:
    response = client.get(URL, {"q": q})
    assert response.status_code == 200
    assert response.context["page"] is None
    assert "nothing to search for" in response.text or "Type a word" in response.text


def test_only_exclusions_asks_for_a_word(client, ada) -> None:
    response = client.get(URL, {"q": "-harbour"})
    assert "Add a word to look for" in response.text


def test_an_empty_query_shows_the_form(client, db) -> None:  # the page reads the site settings
    response = client.get(URL)
    assert response.status_code == 200
    assert "Type a word" in response.text


def test_a_very_long_query_is_capped_and_said_so(client, ada) -> None:
    make_post(ada, "The harbour vote")
    response = client.get(URL, {"q": "harbour " + "x" * 5000})
    assert response.status_code == 200
    assert len(response.context["query"].text) == search.MAX_QUERY_LENGTH
    assert "only its first 200 characters" in response.text


def test_search_refuses_post(client) -> None:
    assert client.post(URL, {"q": "harbour"}).status_code == 405


def test_search_is_rate_limited_per_ip(client, db, settings, monkeypatch) -> None:
    settings.RATELIMIT_ENABLED = True
    monkeypatch.setattr(ratelimits, "time", SimpleNamespace(time=lambda: 600.0))  # one window, whenever it runs
    for _ in range(30):
        assert client.get(URL, {"q": "harbour"}, REMOTE_ADDR="10.0.0.1").status_code == 200
    refused = client.get(URL, {"q": "harbour"}, REMOTE_ADDR="10.0.0.1")
    assert refused.status_code == 429
    assert "a lot of searches" in refused.text
    assert client.get(URL, {"q": "harbour"}, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_the_search_page_runs_a_bounded_number_of_queries(client, ada, bo, django_assert_max_num_queries) -> None:
    for n in range(15):
        make_post(ada if n % 2 else bo, f"Harbour note {n}").tags.add("ports")
    sitesettings.current()  # each process reads the site settings at most once a second
    # count and page; on PostgreSQL also a savepoint, its release and the planner hint; nothing per post
    with django_assert_max_num_queries(5):
        assert client.get(URL, {"q": "harbour"}).status_code == 200


# --- Keeping the index current ---------------------------------------------------


def test_an_edited_post_is_found_by_its_new_words(client, ada) -> None:
    post = make_post(ada, "Old title")
    post.title = "Lighthouse restoration"
    post.save()
    assert titles(client.get(URL, {"q": "lighthouse"})) == ["Lighthouse restoration"]
    assert titles(client.get(URL, {"q": "old"})) == []


def test_changed_tags_and_author_name_are_found(client, ada) -> None:
    post = make_post(ada, "A post")
    post.tags.add("lighthouses")
    assert titles(client.get(URL, {"q": "lighthouses"})) == ["A post"]
    post.tags.clear()
    assert titles(client.get(URL, {"q": "lighthouses"})) == []
    ada.display_name = "Ada Quayside"
    ada.save()
    assert titles(client.get(URL, {"q": "quayside"})) == ["A post"]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_stores_a_weighted_vector_with_a_gin_index(ada, settings) -> None:
    post = make_post(ada, "Harbours", subtitle="Votes", body="Councils.")
    post.tags.add("ports")
    vector = Post.objects.values_list("search_vector", flat=True).get(pk=post.pk)
    assert "'harbour':1A" in vector
    assert "'vote':2B" in vector
    assert "'port':3B" in vector
    assert "council" in vector
    heading = Post.objects.values_list("search_heading", flat=True).get(pk=post.pk)
    assert "'harbour':1A" in heading
    assert "council" not in heading
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'blog_post' AND indexdef LIKE '%gin%' ORDER BY indexname"
        )
        [(pairs,), (vector,)] = cursor.fetchall()
    assert "gin (search_vector)" in vector
    assert "gin (search_pairs)" in pairs


PHRASE_TEXTS = [
    "The harbour vote was close.",
    "The vote on the harbour was close.",
    "Harbour of the vote; a well-known city council.",
    "The city's council voted on the harbour, well known for it.",
    "Votes, harbours, councils: the city council harbour vote.",
]
# Each query, and whether it can narrow the search with the word-pair index.
PHRASE_QUERIES = [
    ('"harbour vote"', True), ('"vote harbour"', True), ('"city council"', True), ('"council city"', True),
    ('"well-known"', True), ("well-known", True), ('"well known"', True), ('"harbours vote"', True),
    ('"city council harbour vote"', True), ('"the harbour vote" -"city council"', True),
    ('"harbour of the vote"', False), ('"voted on the harbour"', False),  # stop words between: any word fits there
    ('"harbour vote" OR council', False), ('-"harbour vote" OR "city council"', False),
    ('harbour -"vote harbour"', False), ('"close" OR "council voted"', False), ('"no such phrase"', False),
]  # fmt: skip


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.parametrize(("q", "uses_pairs"), PHRASE_QUERIES)
def test_postgresql_phrases_find_what_the_full_check_finds(client, ada, q, uses_pairs) -> None:
    """The word-pair index only narrows the search: every post the plain
    `search_vector @@ query` finds is still found, in every shape of query."""
    for n, text in enumerate(PHRASE_TEXTS):
        make_post(ada, f"Post {n}", body=text)
    expected = Post.objects.filter(search_vector=search.SearchQuery(q, search_type="websearch", config="english"))
    found = search.search_posts(search.parse(q), Post.objects.published())
    assert sorted(p.title for p in found) == sorted(p.title for p in expected)
    assert ('"search_pairs" @@' in str(found.query)) is uses_pairs


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_random_phrase_queries_find_what_the_full_check_finds(ada) -> None:
    rng = random.Random(16)
    words = ["harbour", "vote", "city", "council", "of", "the", "well-known", "ferry", "port", "not"]
    for n in range(30):
        make_post(ada, f"Post {n}", body=" ".join(rng.choices(words, k=30)))

    def term() -> str:
        return (
            '"' + " ".join(rng.choices(words, k=rng.randint(2, 4))) + '"' if rng.random() < 0.6 else rng.choice(words)
        )

    for _ in range(100):
        q = " ".join(rng.choice(["", "-", "OR "]) + term() for _ in range(rng.randint(1, 3))).removeprefix("OR ")
        if not search.parse(q).is_searchable:  # only exclusions: the page asks for a word
            continue
        expected = Post.objects.filter(search_vector=search.SearchQuery(q, search_type="websearch", config="english"))
        found = search.search_posts(search.parse(q), Post.objects.published())
        assert sorted(p.pk for p in found) == sorted(p.pk for p in expected), q


@pytest.mark.parametrize(
    ("ts_query", "pairs"),
    [
        ("'harbour' <-> 'vote'", ["harbour vote"]),
        ("'a' <-> 'b' <-> 'c'", ["a b", "b c"]),
        ("'a' <-> ( 'b' <-> 'c' )", ["a b", "b c"]),
        ("'harbour' <3> 'vote'", []),  # stop words between: any words may stand there
        ("'a' <-> 'b' <2> 'c'", ["a b"]),
        ("'a' & 'b'", []),
        ("'a' <-> 'b' & !( 'c' <-> 'd' )", ["a b"]),
        ("'a' <-> 'b' | 'c'", []),  # "c" alone matches: no pair is needed
        ("'a' <-> 'b' | 'c' <-> 'd'", ["a b|c d"]),
        ("!'a' <-> 'b'", []),
        ("'a':* <-> 'b'", []),
        ("'o''neill' <-> 'back\\\\slash'", ["o'neill back\\slash"]),
        ("", []),
    ],
)
def test_required_pairs_asks_only_for_neighbours_every_match_has(ts_query, pairs) -> None:
    def hashed(pair: str) -> str:
        return f"'{search._pair_hash(*pair.split(' '))}'"

    expected = " & ".join(
        hashed(pair) if "|" not in pair else " | ".join(f"( {hashed(one)} )" for one in pair.split("|"))
        for pair in pairs
    )
    assert search.required_pairs(ts_query) == (expected or None)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_stems_words_in_the_configured_language(client, ada) -> None:
    make_post(ada, "Councils voted", body="")
    assert titles(client.get(URL, {"q": "council votes"})) == ["Councils voted"]


# --- The desk and the moderation pages -------------------------------------------------


def test_authors_search_their_own_drafts_on_the_desk(client, ada, bo) -> None:
    make_post(ada, "Lighthouse draft", status=Post.Status.DRAFT)
    make_post(ada, "Ferry piece", status=Post.Status.DRAFT)
    make_post(bo, "Bo's lighthouse draft", status=Post.Status.DRAFT)
    client.force_login(ada)
    response = client.get(reverse("blog:desk"), {"q": "lighthouse"})
    assert [p.title for p in response.context["posts"]] == ["Lighthouse draft"]
    assert 'value="lighthouse"' in response.text


def test_desk_search_with_nothing_to_search_says_so(client, ada) -> None:
    client.force_login(ada)
    response = client.get(reverse("blog:desk"), {"q": "(("})
    assert response.status_code == 200
    assert "nothing to search for" in response.text


def test_desk_search_is_for_authors_only(client, rosa) -> None:
    assert client.get(reverse("blog:desk"), {"q": "x"}).status_code == 302
    client.force_login(rosa)
    assert client.get(reverse("blog:desk"), {"q": "x"}).status_code == 403


def test_moderators_search_the_queue(client, ada, rosa, milo) -> None:
    post = make_post(ada, "Open")
    Comment.objects.create(post=post, author=rosa, body="Buy cheap watches", body_html="", status="held")
    Comment.objects.create(post=post, author=rosa, body="The second table is wrong", body_html="", status="held")
    client.force_login(milo)
    response = client.get(reverse("blog:moderation_queue"), {"q": "watches"})
    assert [c.body for c in response.context["page"]] == ["Buy cheap watches"]
    assert client.get(reverse("blog:moderation_queue"), {"q": "rosa"}).context["page"].paginator.count == 2


def test_moderators_search_the_log(client, ada, rosa, milo) -> None:
    post = make_post(ada, "Open")
    spam = Comment.objects.create(post=post, author=rosa, body="Buy cheap watches", body_html="", status="spam")
    fine = Comment.objects.create(post=post, author=rosa, body="A fair point", body_html="")
    ModerationLog.objects.create(moderator=milo, subject=rosa, comment=spam, action="spam")
    ModerationLog.objects.create(moderator=milo, subject=rosa, comment=fine, action="approve")
    client.force_login(milo)
    response = client.get(reverse("blog:moderation_log"), {"q": "watches"})
    assert [entry.comment for entry in response.context["page"]] == [spam]
    assert client.get(reverse("blog:moderation_log"), {"q": ":*&("}).status_code == 200


def test_readers_cannot_search_the_moderation_pages(client, rosa) -> None:
    client.force_login(rosa)
    assert client.get(reverse("blog:moderation_queue"), {"q": "x"}).status_code == 403
    assert client.get(reverse("blog:moderation_log"), {"q": "x"}).status_code == 403


# --- The query reader ----------------------------------------------------------------


def test_parse_reads_phrases_exclusions_and_or() -> None:
    query = search.parse('harbour "city council" -ferry vote OR poll')
    assert query.groups == [["harbour"], ["city council"], ["vote", "poll"]]
    assert query.excluded == ["ferry"]


def test_parse_drops_control_characters_and_punctuation() -> None:
    query = search.parse("a\x00b (:*& ")
    assert query.groups == [["a"], ["b"]]
    assert search.parse("(:*&").is_searchable is False


def test_moderation_pages_keep_the_search_when_paging(client, ada, rosa, milo) -> None:
    post = make_post(ada, "Open")
    for n in range(51):
        Comment.objects.create(post=post, author=rosa, body=f"Cheap watches {n}", body_html="", status="held")
    client.force_login(milo)
    page = client.get(reverse("blog:moderation_queue"), {"q": "watches"}).text
    assert 'href="?q=watches&amp;page=2"' in page


def test_update_search_index_rebuilds_every_vector(ada) -> None:
    make_post(ada, "Lighthouse")
    out = StringIO()
    call_command("update_search_index", stdout=out)
    expected = "Indexed 1 posts." if connection.vendor == "postgresql" else "Nothing to index"
    assert expected in out.getvalue()
