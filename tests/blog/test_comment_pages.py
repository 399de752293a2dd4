"""Long discussions come in pages of threads; each reader's buttons and held
comments are added to the shared rendering; the query count stays fixed."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from blog.discussion.commentpages import PAGE_COMMENTS
from blog.models import Comment, CommentLike, Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db


def discuss(post: Post, authors: list, threads: int, depth: int) -> list[list[Comment]]:
    """`threads` top-level comments, each with a chain of replies `depth` deep."""
    tops = Comment.objects.bulk_create(
        Comment(post=post, author=authors[i % len(authors)], body="x", body_html=f"<p>Thread {i}</p>")
        for i in range(threads)
    )
    chains = [[top] for top in tops]
    for level in range(2, depth + 1):
        replies = Comment.objects.bulk_create(
            Comment(post=post, author=authors[(i + level) % len(authors)], body="x", parent=chain[-1],
                    reply_to=chain[-1], level=level, body_html=f"<p>Reply {i}.{level}</p>")
            for i, chain in enumerate(chains)
        )  # fmt: skip
        for chain, reply in zip(chains, replies, strict=True):
            chain.append(reply)
    return chains


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "A busy discussion", slug="busy")


def shown(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li class="comment[^"]*" id="comment-(\d+)"', html)]


def more_link(html: str) -> str | None:
    found = re.search(r'<a href="(\?[^"]*)#comments" rel="next">More comments</a>', html)
    return found[1].replace("&amp;", "&") if found else None


def read_all_pages(client: Client, path: str) -> list[list[int]]:
    pages, query = [], ""
    while True:
        html = client.get(path + query).content.decode()
        pages.append(shown(html))
        query = more_link(html)
        if query is None:
            return pages
        assert len(pages) < 20


@pytest.mark.parametrize("signed_in", [False, True])
def test_five_hundred_comments_come_in_pages_each_exactly_once_with_replies_in_their_thread(
    client, post, rosa, bo, signed_in
) -> None:
    chains = discuss(post, [rosa, bo], threads=125, depth=4)
    if signed_in:
        client.force_login(rosa)
    pages = read_all_pages(client, "/p/busy/")
    assert [len(page) for page in pages] == [PAGE_COMMENTS] * (500 // PAGE_COMMENTS)  # whole threads of four
    everything = [pk for page in pages for pk in page]
    assert sorted(everything) == sorted(c.pk for chain in chains for c in chain)
    for page in pages:
        for chain in chains:
            if chain[0].pk in page:
                start = page.index(chain[0].pk)
                assert page[start : start + 4] == [c.pk for c in chain]


def test_the_more_link_keeps_the_sort_order(client, post, rosa) -> None:
    discuss(post, [rosa], threads=PAGE_COMMENTS + 5, depth=1)
    html = client.get("/p/busy/?sort=newest").content.decode()
    assert more_link(html).startswith("?sort=newest&after=")
    second = shown(client.get("/p/busy/" + more_link(html)).content.decode())
    assert len(second) == 5


def test_a_permalink_to_a_comment_on_page_three_lands_on_it(client, post, rosa) -> None:
    chains = discuss(post, [rosa], threads=120, depth=2)
    reply = chains[110][1]
    response = client.get(reply.anchor_url)
    assert reply.pk in shown(response.content.decode())
    assert chains[0][0].pk not in shown(response.content.decode())
    assert response.wsgi_request.get_full_path() == f"/p/busy/?comment={reply.pk}"
    detail = client.get(reply.get_absolute_url())
    assert f'id="comment-{reply.pk}"' in detail.content.decode()


def test_a_readers_likes_held_comments_and_buttons_are_theirs_alone(client, post, ada, rosa, bo) -> None:
    chains = discuss(post, [bo], threads=3, depth=2)
    CommentLike.objects.create(comment=chains[1][0], user=rosa)
    held = Comment.objects.create(post=post, author=rosa, body="x", body_html="<p>Still waiting</p>",
                                  status="held", parent=chains[1][0], reply_to=chains[1][0], level=2)  # fmt: skip
    client.force_login(rosa)
    html = client.get("/p/busy/").content.decode()
    order = shown(html)
    assert order.index(held.pk) == order.index(chains[1][0].pk) + 1  # under the comment it answers
    assert "Awaiting moderation" in html
    assert html.count('aria-pressed="true"') == 1
    assert f'href="/comments/{held.pk}/delete/"' in html and f'href="/comments/{chains[0][0].pk}/flag/"' in html
    assert "/pin/" not in html
    assert html.count("csrfmiddlewaretoken") > 6

    other = Client()
    other.force_login(bo)
    theirs = other.get("/p/busy/").content.decode()
    assert "Still waiting" not in theirs and 'aria-pressed="true"' not in theirs
    assert f'href="/comments/{chains[0][0].pk}/delete/"' in theirs

    author = Client()
    author.force_login(ada)
    assert f'action="/comments/{chains[0][0].pk}/pin/"' in author.get("/p/busy/").content.decode()
    assert "Still waiting" not in Client().get("/p/busy/").content.decode()


def count_queries(client: Client, path: str) -> int:
    client.get(path)
    client.get(path)  # a first post page gives a reader a referral code, which changes their row
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return len(queries)


# Signed in: this reader's state on the post with its counters (blog/discussion/readerstate.py), and only
# if they have comments awaiting moderation there, those; the user comes from the shared
# cache (accounts/backends.py), the post's row and the rest of the page are kept per
# version of the page.
@pytest.mark.parametrize(("signed_in", "expected"), [(False, 0), (True, 1)])
def test_the_post_page_runs_the_same_queries_for_five_comments_and_five_hundred(
    post, ada, rosa, bo, signed_in, expected
) -> None:
    client = Client()
    if signed_in:
        client.force_login(rosa)
    other = make_post(ada, "Quiet", slug="quiet")
    discuss(other, [rosa, bo], threads=1, depth=5)
    discuss(post, [rosa, bo], threads=100, depth=5)
    assert count_queries(client, "/p/quiet/") == count_queries(client, "/p/busy/") == expected


def buttons_of(html: str, pk: int) -> str:
    """The buttons under comment `pk` on a page, the form tokens (masked anew each time) left out."""
    start = html.index(f'id="comment-{pk}"')
    body_end = html.index('<div class="comment-body">', start)
    end = html.find('<li class="comment', body_end)
    part = html[html.index("</div>", body_end) + len("</div>") : end if end != -1 else None]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", part.split("</li>")[0].split("<ol")[0])


@pytest.mark.parametrize("who", ["visitor", "rosa", "bo", "ada", "milo"])
def test_a_comments_buttons_are_the_same_on_its_permalink_and_in_its_thread(post, ada, bo, rosa, milo, who) -> None:
    """One source for the buttons (commentpages.actions): the thread adds them to the
    shared rendering, the permalink page through {% comment_actions %}."""
    [[top, reply]] = discuss(post, [bo, rosa], threads=1, depth=2)
    CommentLike.objects.create(comment=top, user=rosa)
    Comment.objects.filter(pk=top.pk).update(like_count=1)
    client = Client()
    if who != "visitor":
        client.force_login({"rosa": rosa, "bo": bo, "ada": ada, "milo": milo}[who])
    thread = client.get(post.get_absolute_url()).content.decode()
    for comment in (top, reply):
        permalink = client.get(comment.get_absolute_url()).content.decode()
        assert buttons_of(permalink, comment.pk) == buttons_of(thread, comment.pk)
    assert ("Flag" in buttons_of(thread, top.pk)) == (who in ("rosa", "ada", "milo"))
