import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.utils import timezone
from taggit.models import Tag

from accounts.models import User
from blog.management.commands.seed_demo import ANALYSIS_SLUG, PASSWORD
from blog.models import Comment, CommentLike, PageViewDay, Post, ReferrerDay, Subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug(settings):
    settings.DEBUG = True


def test_it_refuses_a_live_site_unless_forced(settings) -> None:
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="known password"):
        call_command("seed_demo", verbosity=0)
    assert not User.objects.exists()
    call_command("seed_demo", "--force", verbosity=0)
    assert User.objects.filter(email="author@example.com").exists()


DEMO_EMAILS = ["author@example.com", "moderator@example.com", "reader@example.com", "jonah@example.com"]


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "emails": EmailAddress.objects.count(),
        "posts": Post.objects.count(),
        "tags": Tag.objects.count(),
        "tagged": Post.tags.through.objects.count(),
        "comments": Comment.objects.count(),
        "comment likes": CommentLike.objects.count(),
        "view days": PageViewDay.objects.count(),
        "referrer days": ReferrerDay.objects.count(),
        "subscribers": Subscriber.objects.count(),
    }


def snapshot() -> list[tuple]:
    fields = ["slug", "status", "published_at", "created_at", "updated_at", "body_html"]
    return list(Post.objects.order_by("slug").values_list(*fields))


def test_running_it_twice_changes_nothing() -> None:
    call_command("seed_demo", verbosity=0)
    before_counts, before_posts = counts(), snapshot()
    call_command("seed_demo", verbosity=0)
    assert before_counts["users"] == before_counts["emails"] == 4
    assert counts() == before_counts
    assert snapshot() == before_posts


def test_it_prints_the_logins_and_password(capsys) -> None:
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert PASSWORD in out
    assert all(email in out for email in DEMO_EMAILS)


def test_demo_people_have_their_roles() -> None:
    call_command("seed_demo", verbosity=0)
    assert User.objects.get(username="author").is_author
    assert User.objects.get(username="moderator").groups.filter(name="Moderators").exists()
    assert not User.objects.get(username="reader").groups.exists()


@pytest.mark.parametrize("email", DEMO_EMAILS)
def test_demo_people_can_sign_in_with_the_printed_password(client, email: str) -> None:
    call_command("seed_demo", verbosity=0)
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)


def test_the_analysis_is_long_with_quotes_and_footnotes() -> None:
    call_command("seed_demo", verbosity=0)
    analysis = Post.objects.get(slug=ANALYSIS_SLUG)
    assert len(analysis.body.split()) >= 1500
    assert analysis.body_html.count("<blockquote>") >= 3
    assert 'class="footnote"' in analysis.body_html
    assert "<table>" in analysis.body_html


def test_the_analysis_ends_with_a_call_to_action(client) -> None:
    call_command("seed_demo", verbosity=0)
    page = client.get(f"/p/{ANALYSIS_SLUG}/").content.decode()
    assert all(word in page for word in ["like button", "re-stack", "comment", "subscribe"])


def test_the_draft_and_scheduled_posts_stay_private(client) -> None:
    call_command("seed_demo", verbosity=0)
    hidden = Post.objects.exclude(status=Post.Status.PUBLISHED)
    assert sorted(hidden.values_list("status", flat=True)) == [Post.Status.DRAFT, Post.Status.SCHEDULED]
    assert not Post.objects.published().filter(pk__in=hidden).exists()
    for post in hidden:
        assert client.get(post.get_absolute_url()).status_code == 404


def test_the_scheduled_post_is_dated_in_the_future() -> None:
    call_command("seed_demo", verbosity=0)
    scheduled = Post.objects.get(status=Post.Status.SCHEDULED)
    published = Post.objects.published()
    assert scheduled.published_at > max(post.published_at for post in published)
    assert published.count() == 5


def test_the_analysis_has_an_argument_in_its_comments(client) -> None:
    call_command("seed_demo", verbosity=0)
    page = client.get(f"/p/{ANALYSIS_SLUG}/").content.decode()
    assert "7 comments" in page
    assert page.count('<span class="badge">Author</span>') == 1  # Ada answers in her own thread
    pinned = Comment.objects.get(is_pinned=True)
    first = page[page.index('class="comment-list"') :].split('id="comment-', 1)[1].split('"', 1)[0]
    assert first == str(pinned.pk)  # the pin puts it at the top
    assert "<em>guarantee</em>" in page and "level-3" in page
    for comment in Comment.objects.all():
        assert comment.like_count == comment.likes.count()


def test_a_month_of_history_for_the_insights_pages(client) -> None:
    call_command("seed_demo", verbosity=0)
    home_days = PageViewDay.objects.filter(post=None)
    assert home_days.count() == 30
    for post in Post.objects.published():
        days = PageViewDay.objects.filter(post=post).order_by("day")
        assert days.first().day == timezone.localdate(post.published_at)
        assert days.last().day < timezone.localdate()  # today is counted live
        assert days.first().views > days.last().views  # the launch peak fades
    assert ReferrerDay.objects.filter(source="news.ycombinator.com").exists()
    assert Subscriber.objects.filter(source__startswith="post-", status="active").count() > 40
    client.force_login(User.objects.get(username="author"))
    page = client.get("/write/insights/").content.decode()
    assert "The Harbour Bill: what the reports leave out" in page and "news.ycombinator.com" in page
