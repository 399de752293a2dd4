import io

import pytest
from PIL import Image

from blog.models import Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def get_preview(client, django_capture_on_commit_callbacks):
    """Fetch a preview; the worker (eager here) runs what the request queued."""

    def get(post: Post, **headers):
        with django_capture_on_commit_callbacks(execute=True):
            return client.get(f"/p/{post.slug}/preview.png", headers=headers)

    return get


def test_the_preview_is_a_1200_by_630_png_with_caching(client, ada, get_preview) -> None:
    post = make_post(ada, "A picture of a title", subtitle="and its subtitle")
    get_preview(post)  # queues the drawing
    response = client.get(f"/p/{post.slug}/preview.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "max-age=86400" in response["Cache-Control"]
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert image.size == (1200, 630)
    again = client.get(f"/p/{post.slug}/preview.png", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_the_preview_is_redrawn_when_the_title_changes_and_only_then(client, ada, get_preview) -> None:
    post = make_post(ada, "First title")
    get_preview(post)
    first = Post.objects.get(pk=post.pk).preview_image.name
    post.body = "Only the body changed."
    post.save()
    get_preview(post)
    assert Post.objects.get(pk=post.pk).preview_image.name == first
    client.force_login(ada)
    client.post(f"/write/{post.pk}/", {"title": "Second title", "body": "x", "action": "save"})
    get_preview(Post.objects.get(pk=post.pk))
    assert Post.objects.get(pk=post.pk).preview_image.name != first


def test_a_request_never_draws_the_preview_itself(client, ada, monkeypatch, django_capture_on_commit_callbacks) -> None:
    from blog.posts import previews
    from blog.tasks import refresh_preview

    queued = []
    monkeypatch.setattr(previews, "render_preview", lambda post: pytest.fail("drawn inside the request"))
    monkeypatch.setattr(refresh_preview, "delay", lambda post_id: queued.append(post_id))
    post = make_post(ada, "Drawn by the worker")
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.get(f"/p/{post.slug}/preview.png")
        assert response.status_code == 302 and response.url == "/static/img/preview.png"
    assert queued == [post.pk]  # a burst of requests queues one drawing


def test_a_stale_preview_is_served_while_the_worker_draws_the_new_one(client, ada, get_preview, monkeypatch) -> None:
    from blog.tasks import refresh_preview

    post = make_post(ada, "Old title")
    get_preview(post)
    Post.objects.filter(pk=post.pk).update(title="New title")
    queued = []
    monkeypatch.setattr(refresh_preview, "delay", lambda post_id: queued.append(post_id))
    response = get_preview(post)
    assert response.status_code == 200 and "max-age=60" in response["Cache-Control"]
    assert queued == [post.pk]


def test_post_page_names_the_preview_for_social_cards(client, ada) -> None:
    post = make_post(ada)
    page = client.get(post.get_absolute_url()).content.decode()
    assert f'<meta property="og:image" content="http://127.0.0.1:8000/p/{post.slug}/preview.png' in page
    assert f'<meta name="twitter:image" content="http://127.0.0.1:8000/p/{post.slug}/preview.png' in page


def test_drafts_have_no_public_preview(client, ada) -> None:
    draft = make_post(ada, "Draft", status=Post.Status.DRAFT)
    assert client.get(f"/p/{draft.slug}/preview.png").status_code == 404
