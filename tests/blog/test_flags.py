from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from blog.discussion import moderation
from blog.models import Comment, Flag, ModerationLog, Post
from tests.factories import comment_as, make_post, make_user, relax_moderation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rules():
    relax_moderation()


def old_account(handle: str, days: int = 30) -> User:
    """A reader who signed up a while ago: their flags count."""
    user = make_user(handle)
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=days))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def post(ada) -> Post:
    return make_post(ada, "Flag me")


@pytest.fixture
def comment(post, rosa, django_capture_on_commit_callbacks) -> Comment:
    with django_capture_on_commit_callbacks(execute=True):
        return comment_as(rosa, post, "Provocative take")


def test_three_flags_hide_a_comment_for_review(client, comment) -> None:
    for i in range(3):
        client.force_login(old_account(f"flagger{i}"))
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


# --- Flags against a determined abuser (issue 11, item 2) --------------------


def flag(client, user, comment: Comment, reason: str = "abuse"):
    client.force_login(user)
    return client.post(f"/comments/{comment.pk}/flag/", {"reason": reason})


def test_throwaway_accounts_cannot_hide_a_comment(client, comment) -> None:
    for i in range(5):
        assert flag(client, make_user(f"throwaway{i}"), comment).status_code == 302
    comment.refresh_from_db()
    assert comment.status == "approved" and comment.flag_count == 5  # the moderators still see them


def test_approving_keeps_the_flags_and_the_same_readers_cannot_hide_it_again(client, comment) -> None:
    from accounts.roles import MODERATORS

    flaggers = [old_account(f"flagger{i}") for i in range(3)]
    for user in flaggers:
        flag(client, user, comment)
    assert Comment.objects.get(pk=comment.pk).status == "held"
    client.force_login(make_user("milo", role=MODERATORS))
    client.post("/moderation/", {"action": "approve", "ids": [comment.pk]})
    assert Comment.objects.get(pk=comment.pk).status == "approved"
    assert set(Flag.objects.values_list("status", flat=True)) == {"rejected"}  # kept, as the record
    for user in flaggers:
        assert flag(client, user, comment).status_code == 400  # flagged already
    other = comment_as(make_user("writer"), comment.post, "Another take")
    for user in flaggers:  # their flags weigh nothing anywhere now
        flag(client, user, other)
    assert Comment.objects.get(pk=other.pk).status == "approved"


def test_taking_a_comment_down_upholds_its_flags(comment) -> None:
    from accounts.roles import MODERATORS

    Flag.objects.create(comment=comment, user=old_account("flagger"), reason="abuse")
    moderation.delete_comment(make_user("milo", role=MODERATORS), comment, "abusive")
    assert Flag.objects.get().status == "upheld"


@pytest.mark.parametrize("author_kind", ["moderator", "staff", "post author"])
def test_flags_never_hide_a_moderators_staffs_or_the_post_authors_comment(client, post, ada, author_kind) -> None:
    from accounts.roles import MODERATORS

    author = {
        "moderator": lambda: make_user("milo", role=MODERATORS),
        "staff": lambda: make_user("sam", is_staff=True),
        "post author": lambda: ada,
    }[author_kind]()
    target = comment_as(author, post, "A firm word from the house")
    for i in range(4):
        flag(client, old_account(f"flagger{i}"), target)
    target.refresh_from_db()
    assert target.status == "approved" and target.flag_count == 4  # in the queue, still public


def test_the_auto_hide_is_logged_with_the_flaggers(client, comment) -> None:
    for handle in ("ann", "ben", "cat"):
        flag(client, old_account(handle), comment)
    entry = ModerationLog.objects.get(action="auto-hidden", comment=comment)
    assert entry.reason == "3 readers flagged it: @ann, @ben, @cat"


def test_flags_are_rate_limited_per_reader(client, post) -> None:
    targets = [comment_as(make_user(f"writer{i}"), post, f"Take number {i}") for i in range(4)]
    flagger = old_account("eager")
    answers = [flag(client, flagger, target).status_code for target in targets]
    assert answers == [302, 302, 302, 429]
    assert Flag.objects.count() == 3


def test_a_banned_reader_cannot_flag(client, comment) -> None:
    from blog.models import Ban

    flagger = old_account("troll")
    Ban.objects.create(user=flagger, handle="troll", email=flagger.email, reason="flag abuse")
    response = flag(client, flagger, comment)
    assert response.status_code == 400 and "Flag abuse" in response.content.decode()
    assert not Flag.objects.exists()
