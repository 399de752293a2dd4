"""The read API through HTTP: what readers may see and nothing else, filters,
cursor paging, cache headers, the published rate limit, and its schema."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from blog.api import access
from blog.integrations import apikeys
from blog.models import Comment
from blog.shared import ratelimits, sitesettings
from tests.factories import comment_as, grant, make_post, make_user, relax_moderation


@pytest.fixture
def owner(db):
    return grant(make_user("olga"), "blog.manage_integrations", "blog.change_any_post")


@pytest.fixture
def window(monkeypatch):
    """The rate-limit window's clock, pinned: no test straddles the end of a minute."""
    clock = SimpleNamespace(time=lambda: 600.0)
    monkeypatch.setattr(ratelimits, "time", clock)
    monkeypatch.setattr(access, "time", clock)


def get(client, url: str, key: str = "", **params):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.get(url, params, headers=headers)


def test_the_post_list_shows_published_posts_newest_first(client, ada, bo) -> None:
    now = timezone.now()
    old = make_post(ada, "Older", published_at=now - timedelta(days=2), tags=None)
    new = make_post(bo, "Newer", published_at=now - timedelta(days=1))
    make_post(ada, "A draft", status="draft")
    make_post(ada, "Scheduled", status="scheduled", published_at=now + timedelta(days=1))
    make_post(ada, "Dated ahead", published_at=now + timedelta(hours=1))
    response = get(client, "/api/v1/posts")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["title"] for item in items] == ["Newer", "Older"]
    assert items[0]["author"]["handle"] == "bo"
    assert items[1]["url"].endswith(f"/p/{old.slug}/")
    assert response.json()["next_cursor"] is None
    assert new.pk == items[0]["id"]


def test_the_post_list_filters_by_tag_author_and_date(client, ada, bo) -> None:
    now = timezone.now()
    tagged = make_post(ada, "Tagged", published_at=now - timedelta(days=3))
    tagged.tags.add("economics")
    make_post(bo, "By bo", published_at=now - timedelta(days=1))
    assert [p["title"] for p in get(client, "/api/v1/posts", tag="economics").json()["items"]] == ["Tagged"]
    assert [p["tags"] for p in get(client, "/api/v1/posts", tag="economics").json()["items"]] == [["economics"]]
    assert [p["title"] for p in get(client, "/api/v1/posts", author="BO").json()["items"]] == ["By bo"]
    after = (now - timedelta(days=2)).isoformat()
    assert [p["title"] for p in get(client, "/api/v1/posts", published_after=after).json()["items"]] == ["By bo"]
    assert [p["title"] for p in get(client, "/api/v1/posts", published_before=after).json()["items"]] == ["Tagged"]


def test_cursor_paging_walks_every_post_once(client, ada) -> None:
    when = timezone.now() - timedelta(days=1)
    made = [make_post(ada, f"Post {i}", published_at=when) for i in range(5)]  # the same date: pk breaks ties
    seen, cursor = [], None
    for _ in range(5):
        page = get(client, "/api/v1/posts", limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [post.pk for post in reversed(made)]


@pytest.mark.parametrize(
    ("params", "message"),
    [({"cursor": "not-a-cursor"}, "cursor"), ({"cursor": "WzFd"}, "cursor"), ({"limit": 0}, "limit"),
     ({"limit": 500}, "limit")],
)  # fmt: skip
def test_bad_paging_is_a_clear_400(client, db, params, message) -> None:
    response = get(client, "/api/v1/posts", **params)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_a_bad_date_is_a_clear_422(client, db) -> None:
    response = get(client, "/api/v1/posts", published_after="yesterday")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "published_after"


def test_one_post_by_id_or_slug_with_its_body(client, ada) -> None:
    post = make_post(ada, "Whole", body="Some **bold** words.")
    by_id = get(client, f"/api/v1/posts/{post.pk}").json()
    assert "<strong>bold</strong>" in by_id["body_html"]
    assert get(client, f"/api/v1/posts/slug/{post.slug}").json() == by_id


def test_drafts_and_scheduled_posts_are_404_even_for_their_author(client, ada) -> None:
    draft = make_post(ada, status="draft")
    client.force_login(ada)  # a session does not open the API's door to drafts
    assert get(client, f"/api/v1/posts/{draft.pk}").status_code == 404
    assert get(client, f"/api/v1/posts/slug/{draft.slug}").status_code == 404
    assert get(client, f"/api/v1/posts/{draft.pk}/comments").status_code == 404


def test_comments_list_only_approved_ones_in_order(client, ada, rosa, bo) -> None:
    relax_moderation()
    post = make_post(ada)
    first = comment_as(rosa, post, "First!")
    comment_as(bo, post, "Second.")
    Comment.objects.create(post=post, author=bo, body="held", body_html="<p>held</p>", status="held")
    Comment.objects.create(post=post, author=bo, body="gone", body_html="<p>gone</p>", is_deleted=True)
    response = get(client, f"/api/v1/posts/{post.pk}/comments", limit=1)
    page = response.json()
    assert [c["id"] for c in page["items"]] == [first.pk]
    rest = get(client, f"/api/v1/posts/{post.pk}/comments", cursor=page["next_cursor"]).json()
    assert [c["author"] for c in rest["items"]] == ["bo"]
    assert rest["next_cursor"] is None


def test_tags_and_authors_count_published_posts_only(client, ada, bo) -> None:
    make_post(ada, "Live").tags.add("economics")
    make_post(bo, "Draft", status="draft").tags.add("secret")
    assert [(t["slug"], t["post_count"]) for t in get(client, "/api/v1/tags").json()] == [("economics", 1)]
    authors = get(client, "/api/v1/authors").json()
    assert [(a["handle"], a["post_count"]) for a in authors] == [("ada", 1)]
    assert authors[0]["display_name"] == "Ada Whitlock"


def test_anonymous_answers_may_be_kept_by_shared_caches(client, ada, owner) -> None:
    make_post(ada)
    response = get(client, "/api/v1/posts")
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    assert "Authorization" in response["Vary"]
    key = apikeys.create_key(owner, "Reader", ["read"]).secret
    assert "private" in get(client, "/api/v1/posts", key=key)["Cache-Control"]


def test_the_public_rate_limit_answers_429_with_retry_after(client, db, settings, window) -> None:
    settings.API_PUBLIC_RATE = "3/m"
    assert [get(client, "/api/v1/tags").status_code for _ in range(3)] == [200, 200, 200]
    response = get(client, "/api/v1/tags")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"  # the window of the pinned clock started just now
    assert "detail" in response.json()


def test_a_key_raises_the_limit(client, owner, settings, window) -> None:
    settings.API_PUBLIC_RATE, settings.API_KEY_RATE = "2/m", "5/m"
    key = apikeys.create_key(owner, "Reader", ["read"]).secret
    assert [get(client, "/api/v1/tags").status_code for _ in range(3)] == [200, 200, 429]
    assert [get(client, "/api/v1/tags", key=key).status_code for _ in range(6)] == [200] * 5 + [429]


def test_a_revoked_or_made_up_key_is_401_even_for_public_reads(client, owner) -> None:
    made = apikeys.create_key(owner, "Old", ["read"])
    apikeys.revoke_key(made.key)
    assert get(client, "/api/v1/posts", key=made.secret).status_code == 401
    response = get(client, "/api/v1/posts", key="dsp_deadbeef_nothing")
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]


def test_the_list_runs_a_bounded_number_of_queries(client, ada, rosa, django_assert_max_num_queries) -> None:
    for i in range(12):
        post = make_post(ada, f"Post {i}")
        post.tags.add(f"tag{i}", "common")
        Comment.objects.create(post=post, author=rosa, body="Hello", body_html="<p>Hello</p>")
    sitesettings.current()  # each process reads the site settings at most once a second
    with django_assert_max_num_queries(2):
        assert len(get(client, "/api/v1/posts").json()["items"]) == 12


def test_the_openapi_schema_validates(client, db) -> None:
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert {"/api/v1/posts", "/api/v1/subscribers", "/api/v1/comments/{comment_id}/moderate"} <= set(schema["paths"])


def test_the_docs_page_loads_its_scripts_from_the_site_itself(client, db) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn." not in page
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_anonymous_lists_are_shared_until_a_post_is_published(
    client, ada, django_capture_on_commit_callbacks, django_assert_num_queries
) -> None:
    make_post(ada, "First")
    assert [p["title"] for p in get(client, "/api/v1/posts").json()["items"]] == ["First"]
    with django_assert_num_queries(0):  # the same list again comes from the shared cache
        get(client, "/api/v1/posts")
    draft = make_post(ada, "Second", status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        from blog.posts.publishing import publish_post

        publish_post(draft)
    assert [p["title"] for p in get(client, "/api/v1/posts").json()["items"]] == ["Second", "First"]


def test_a_shared_answer_is_the_same_json_a_key_gets(client, ada, owner) -> None:
    make_post(ada, "Same").tags.add("x")
    key = apikeys.create_key(owner, "Reader", ["read"]).secret
    anonymous = get(client, "/api/v1/posts").content
    assert get(client, "/api/v1/posts").content == anonymous
    assert get(client, "/api/v1/posts", key=key).content == anonymous


def test_json_answers_carry_a_policy_that_loads_nothing(client, db) -> None:
    response = get(client, "/api/v1/tags")
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
