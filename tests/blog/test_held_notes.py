"""A re-stack note held for moderation is read by its writer and the
moderators only, on every page and in every shared rendering (issue 22, item 6)."""

import pytest
from django.test import Client

from blog.models import Post, Restack
from tests.factories import make_post, relax_moderation

pytestmark = pytest.mark.django_db

NOTE = "Cheap casino chips here"


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def post(ada) -> Post:
    relax_moderation(moderation_words="casino")
    return make_post(ada, "Worth a read")


@pytest.fixture
def held(post, rosa, commit) -> Restack:
    client = Client()
    client.force_login(rosa)
    with commit():
        assert client.post(f"/p/{post.slug}/restack/", {"note": NOTE}).status_code == 302
    item = Restack.objects.get(post=post, user=rosa)
    assert item.note_held
    return item


def page(path: str, who=None) -> str:
    client = Client()
    if who is not None:
        client.force_login(who)
    return client.get(path).content.decode()


def test_signed_out_readers_never_see_a_held_note_even_from_the_cache(post, held) -> None:
    for _ in range(2):  # a miss, then the shared rendering
        assert NOTE not in page(post.get_absolute_url())
        assert NOTE not in page("/@rosa/")
    assert "re-stacked" in page(post.get_absolute_url())  # the re-stack itself is public


def test_other_readers_and_authors_do_not_see_it_after_its_writer_loaded_the_page(post, held, rosa, bo, commit) -> None:
    other = Client()
    other.force_login(bo)
    with commit():
        other.post(f"/p/{post.slug}/restack/", {"note": ""})  # the same reader state as the writer's
    mine = page(post.get_absolute_url(), rosa)
    assert NOTE in mine and "Awaiting moderation. Only you and the moderators can see this note." in mine
    for _ in range(2):
        assert NOTE not in page(post.get_absolute_url(), bo)
    assert NOTE not in page("/@rosa/", bo)
    assert NOTE in page("/@rosa/", rosa)


def test_moderators_see_the_held_note_where_it_stands(post, held, milo) -> None:
    for path in (post.get_absolute_url(), "/@rosa/"):
        shown = page(path, milo)
        assert NOTE in shown and "Only its writer and the moderators can see this note." in shown


def test_once_a_moderator_publishes_it_everyone_sees_it(post, held, milo, commit) -> None:
    assert NOTE not in page(post.get_absolute_url())
    from blog.discussion import moderation

    with commit():
        moderation.publish_note(milo, held)
    assert NOTE in page(post.get_absolute_url()) and NOTE in page("/@rosa/")
    assert "Awaiting moderation" not in page(post.get_absolute_url())
