import pytest

from blog.models import Post, Restack, Share
from tests.factories import make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Stack me")


def test_a_restack_with_a_note_shows_on_the_profile_and_counts_as_a_share(client, rosa, post) -> None:
    client.force_login(rosa)
    response = client.post(f"/p/{post.slug}/restack/", {"note": "Read the *second* half."})
    assert response.status_code == 302 and response.url == "/@rosa/"
    profile = client.get("/@rosa/").content.decode()
    assert "Read the <em>second</em> half." in profile and "Stack me" in profile
    post.refresh_from_db()
    assert (post.restack_count, post.share_count) == (1, 1)
    assert Share.objects.get().network == "restack"
    assert (
        "Rosa" in client.get(post.get_absolute_url()).content.decode()
        or "rosa" in client.get(post.get_absolute_url()).content.decode()
    )


def test_restacking_again_edits_the_note(client, rosa, post) -> None:
    client.force_login(rosa)
    client.post(f"/p/{post.slug}/restack/", {"note": "First thought"})
    client.post(f"/p/{post.slug}/restack/", {"note": "Better thought"})
    assert Restack.objects.get().note == "Better thought"
    assert Post.objects.get(pk=post.pk).restack_count == 1


def test_undo_removes_it(client, rosa, post) -> None:
    client.force_login(rosa)
    client.post(f"/p/{post.slug}/restack/", {"note": ""})
    client.post(f"/p/{post.slug}/restack/undo/")
    assert not Restack.objects.exists()
    assert Post.objects.get(pk=post.pk).restack_count == 0
    assert client.post(f"/p/{post.slug}/restack/undo/").status_code == 302  # again: harmless


def test_an_over_long_note_is_refused_and_nothing_saved(client, rosa, post) -> None:
    client.force_login(rosa)
    response = client.post(f"/p/{post.slug}/restack/", {"note": "x" * 501})
    assert response.status_code == 400
    assert "Keep the note to 500 characters (it has 501)." in response.content.decode()
    assert not Restack.objects.exists() and Post.objects.get(pk=post.pk).restack_count == 0


@pytest.mark.parametrize(
    "note",
    ["<script>alert(1)</script>", "[x](javascript:alert(1))", "<img src=x onerror=alert(1)>", "# Shouting"],
)
def test_hostile_notes_render_inert(client, rosa, post, note) -> None:
    client.force_login(rosa)
    client.post(f"/p/{post.slug}/restack/", {"note": note})
    html = Restack.objects.get().note_html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html and "<h1" not in html


def test_visitors_are_sent_to_sign_in(client, post) -> None:
    response = client.post(f"/p/{post.slug}/restack/", {"note": "hi"})
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert client.post(f"/p/{post.slug}/restack/undo/").status_code == 302
    assert not Restack.objects.exists()


def test_undo_refuses_get_and_touches_only_your_own(client, rosa, bo, post) -> None:
    client.force_login(rosa)
    client.post(f"/p/{post.slug}/restack/", {"note": "mine"})
    client.force_login(bo)
    assert client.get(f"/p/{post.slug}/restack/undo/").status_code == 405
    client.post(f"/p/{post.slug}/restack/undo/")
    assert Restack.objects.filter(user=rosa).exists()


def test_a_draft_cannot_be_restacked(client, rosa, ada) -> None:
    draft = make_post(ada, "Unready", status=Post.Status.DRAFT)
    client.force_login(rosa)
    assert client.post(f"/p/{draft.slug}/restack/", {"note": "x"}).status_code == 404


def test_a_restack_note_cannot_dress_up_as_the_sites_own_panels(client, rosa, post) -> None:
    client.force_login(rosa)
    note = '<div class="share-panel" id="comment-1"><a href="/accounts/login/">Session expired, sign in</a></div>'
    client.post(f"/p/{post.slug}/restack/", {"note": note})
    html = Restack.objects.get().note_html
    assert "Session expired" in html
    assert "class=" not in html and "id=" not in html
