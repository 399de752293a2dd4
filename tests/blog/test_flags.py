import pytest

from blog.models import Comment, Flag, ModerationLog, ModerationSettings, Post
from tests.factories import comment_as, make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rules():
    ModerationSettings.objects.update_or_create(
        pk=1, defaults={"hold_first_comment": False, "min_seconds_to_submit": 0}
    )


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Flag me")


@pytest.fixture
def comment(post, rosa, django_capture_on_commit_callbacks) -> Comment:
    with django_capture_on_commit_callbacks(execute=True):
        return comment_as(rosa, post, "Provocative take")


def test_three_flags_hide_a_comment_for_review(client, comment) -> None:
    for i in range(3):
        client.force_login(make_user(f"flagger{i}"))
        response = client.post(f"/comments/{comment.pk}/flag/", {"reason": "abuse", "note": "rude"})
        assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == "held" and comment.flag_count == 3
    assert ModerationLog.objects.filter(action="auto-hidden", comment=comment).exists()
    client.logout()
    assert "Provocative take" not in client.get(comment.post.get_absolute_url()).content.decode()


def test_a_second_flag_by_the_same_reader_is_refused(client, bo, comment) -> None:
    client.force_login(bo)
    client.post(f"/comments/{comment.pk}/flag/", {"reason": "spam"})
    response = client.post(f"/comments/{comment.pk}/flag/", {"reason": "spam"})
    assert response.status_code == 400 and "flagged this comment already" in response.content.decode()
    assert Flag.objects.count() == 1 and Comment.objects.get().flag_count == 1


def test_a_flag_needs_a_reason_and_not_your_own_comment(client, rosa, bo, comment) -> None:
    client.force_login(bo)
    assert client.post(f"/comments/{comment.pk}/flag/", {"reason": "meh"}).status_code == 400
    client.force_login(rosa)
    assert client.post(f"/comments/{comment.pk}/flag/", {"reason": "spam"}).status_code == 400
    assert not Flag.objects.exists()


def test_flagging_needs_sign_in_and_post(client, bo, comment) -> None:
    assert client.post(f"/comments/{comment.pk}/flag/", {"reason": "spam"}).status_code == 302
    assert not Flag.objects.exists()
