"""Defects a walk through the site found (issue 26, item 8), each as a reader,
an author or a subscriber would meet it."""

import feedparser
import pytest
from django.core import mail
from django.utils import timezone

from blog.models import NewsletterSettings, Post, Subscriber
from blog.newsletter import delivery, emails
from blog.newsletter.subscriptions import confirm_token
from tests.blog.test_desk import png
from tests.factories import make_post

pytestmark = pytest.mark.django_db

BODY_WITH_LINKS = (
    "![A chart](/media/body/chart.png)\n\n"
    "The council voted[^1], see [the archive](/archive/).\n\n"
    "[^1]: Minutes, p. 4.\n"
)


# --- Feeds ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_feed_bodies_use_absolute_image_link_and_footnote_urls(client, ada, url) -> None:
    post = make_post(ada, "Council", body=BODY_WITH_LINKS)
    [entry] = feedparser.parse(client.get(url).content).entries
    body = entry.content[0].value if "content" in entry else entry.summary
    page = "http://127.0.0.1:8000" + post.get_absolute_url()
    assert 'src="http://127.0.0.1:8000/media/body/chart.png"' in body
    assert 'href="http://127.0.0.1:8000/archive/"' in body
    assert f'href="{page}#md-fn:1"' in body
    assert 'href="#' not in body and 'src="/' not in body and 'href="/' not in body
    assert entry.author == ada.name


# --- Excerpts ------------------------------------------------------------------------


def test_an_excerpt_skips_an_opening_image(ada) -> None:
    post = make_post(ada, "Pictured", body="![A harbour at dawn](/media/a.png)\n\nThe harbour opened at six.")
    assert post.summary == "The harbour opened at six."


def test_a_body_of_only_an_image_has_an_empty_excerpt(ada) -> None:
    assert make_post(ada, "Only a picture", body="![A harbour](/media/a.png)").summary == ""


# --- E-mails -------------------------------------------------------------------------


def test_the_welcome_e_mail_links_to_the_site_absolutely(client, ada, django_capture_on_commit_callbacks) -> None:
    NewsletterSettings.objects.update_or_create(
        pk=1,
        defaults={"welcome_enabled": True, "welcome_subject": "Hello",
                  "welcome_body": "Start with [the archive](/archive/) or ![our logo](/media/logo.png)."},
    )  # fmt: skip
    pending = Subscriber.objects.create(email="new@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/subscribe/confirm/{confirm_token(pending)}/")
    [message] = mail.outbox
    html = message.alternatives[0][0]
    assert 'href="http://127.0.0.1:8000/archive/"' in html
    assert 'src="http://127.0.0.1:8000/media/logo.png"' in html
    assert 'href="/' not in html and 'src="/' not in html


def test_the_newsletter_shows_the_post_cover(ada) -> None:
    post = make_post(ada, "Harbour", cover=png(), cover_alt="The harbour at dawn")
    html = emails.render_post(post).html
    assert f'src="http://127.0.0.1:8000{post.cover.url}"' in html
    assert 'alt="The harbour at dawn"' in html


def test_the_newsletter_without_a_cover_has_no_empty_image(ada) -> None:
    assert '<img class="cover"' not in emails.render_post(make_post(ada, "Plain")).html


def test_a_draft_test_e_mail_has_no_dangling_byline(client, ada, django_capture_on_commit_callbacks) -> None:
    draft = make_post(ada, "Unfinished", status=Post.Status.DRAFT)
    client.force_login(ada)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/write/{draft.pk}/test-email/")
    [message] = mail.outbox
    assert f"{ada.name} ·" not in message.alternatives[0][0]
    assert f"{ada.name}</p>" in message.alternatives[0][0]


def test_the_digest_does_not_call_yesterdays_posts_today(ada) -> None:
    make_post(ada, "Yesterday's post", published_at=timezone.now() - timezone.timedelta(hours=20))
    subscriber = Subscriber.objects.create(
        email="daily@example.com", status="active", frequency="daily", digest_hour=0,
        confirmed_at=timezone.now() - timezone.timedelta(days=2),
    )  # fmt: skip
    [delivery_id] = delivery.create_due_digests()
    rendered = emails.render_digest(delivery.Delivery.objects.get(pk=delivery_id).digest)
    assert not rendered.subject.startswith("Today")
    assert rendered.subject == "Your daily digest from Dispatch: Yesterday's post"
    assert "Today on" not in rendered.html and "Today on" not in rendered.text
    assert subscriber.digests.count() == 1


def test_subjects_are_plain_text_not_html_escaped(ada) -> None:
    post = make_post(ada, 'Don\'t "panic" & <carry> on')
    assert emails.render_post(post).subject == 'Don\'t "panic" & <carry> on'


# --- Comments and moderation ---------------------------------------------------------


def test_a_flagged_comment_reaches_the_moderators_digest(client, ada, rosa, bo) -> None:
    from accounts.roles import MODERATORS
    from blog.tasks import send_moderation_digest
    from tests.factories import comment_as, make_user, relax_moderation

    milo = make_user("milo", role=MODERATORS)
    relax_moderation()
    comment = comment_as(rosa, make_post(ada, "Flagged here"), "A remark someone dislikes")
    client.force_login(bo)
    client.post(f"/comments/{comment.pk}/flag/", {"reason": "spam", "note": ""})
    send_moderation_digest.delay()
    [message] = mail.outbox
    assert message.to == [milo.email]
    assert message.subject == "1 comment waiting for moderation on Dispatch"
    assert "A remark someone dislikes" in message.body and "flagged by 1 reader" in message.body


def test_editing_after_the_window_says_so_not_that_a_comment_was_not_posted(client, ada, rosa) -> None:
    from blog.models import Comment
    from tests.factories import comment_as, relax_moderation

    relax_moderation()
    comment = comment_as(rosa, make_post(ada), "Said an hour ago")
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timezone.timedelta(hours=1))
    client.force_login(rosa)
    response = client.get(f"/comments/{comment.pk}/edit/")
    page = response.content.decode()
    assert response.status_code == 400
    assert "This comment can no longer be edited" in page and "was not posted" not in page


# --- Subscriptions -------------------------------------------------------------------


def test_an_unsubscribed_reader_opening_the_link_again_is_offered_to_come_back(client) -> None:
    from blog.newsletter.subscriptions import manage_token

    subscriber = Subscriber.objects.create(email="grace@example.com", status="unsubscribed")
    url = f"/unsubscribe/{manage_token(subscriber)}/"
    page = client.get(url).content.decode()
    assert "You're unsubscribed" in page and "Subscribe again" in page
    assert '<button type="submit">Unsubscribe</button>' not in page
    response = client.post(f"{url}undo/")
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.status == "active" and subscriber.unsubscribed_at is None
    assert subscriber.confirmed_ip == "127.0.0.1"


@pytest.mark.parametrize("status", ["bounced", "complained"])
def test_a_suppressed_address_is_not_turned_back_on_from_the_link(client, status) -> None:
    from blog.newsletter.subscriptions import manage_token

    subscriber = Subscriber.objects.create(email="grace@example.com", status=status)
    response = client.post(f"/unsubscribe/{manage_token(subscriber)}/undo/")
    assert response.status_code == 400 and "can&#x27;t be subscribed again" in response.content.decode()
    assert Subscriber.objects.get().status == status


def test_subscribing_again_needs_a_post_and_a_genuine_link(client) -> None:
    from blog.newsletter.subscriptions import manage_token

    subscriber = Subscriber.objects.create(email="grace@example.com", status="unsubscribed")
    assert client.get(f"/unsubscribe/{manage_token(subscriber)}/undo/").status_code == 405
    assert client.post("/unsubscribe/forged-token/undo/").status_code == 400
    assert Subscriber.objects.get().status == "unsubscribed"


def test_the_desk_figures_add_up(client, ada) -> None:
    now = timezone.now()
    for i in range(5):  # joined this month and stayed
        Subscriber.objects.create(
            email=f"stay{i}@example.com", status="active", confirmed_at=now - timezone.timedelta(days=3)
        )
    for i in range(2):  # joined this month and left again
        Subscriber.objects.create(email=f"left{i}@example.com", status="unsubscribed",
                                  confirmed_at=now - timezone.timedelta(days=20), unsubscribed_at=now)  # fmt: skip
    Subscriber.objects.create(email="old@example.com", status="active", confirmed_at=now - timezone.timedelta(days=90))
    client.force_login(ada)
    page = " ".join(client.get("/write/").content.decode().split())
    assert "<strong>6</strong> subscribers" in page
    assert "<strong>+5</strong> joined in 7 days" in page
    assert "<strong>+7</strong> joined, <strong>−2</strong> left in 30 days (net +5)" in page  # noqa: RUF001 - a minus sign, as shown


# --- Search --------------------------------------------------------------------------


def test_a_phrase_search_is_not_quoted_twice(client, ada) -> None:
    make_post(ada, "Harbour", body="The harbour council met on Friday.")
    page = client.get("/search/", {"q": '"harbour council"'}).content.decode()
    assert "found for &quot;harbour council&quot;." in page
    assert "“&quot;" not in page
    plain = client.get("/search/", {"q": "harbour"}).content.decode()
    assert "found for “harbour”." in plain


# --- Post and profile pages ----------------------------------------------------------


def test_an_author_is_not_offered_to_subscribe_on_their_own_post_or_profile(client, ada, rosa) -> None:
    post = make_post(ada, "Mine")
    client.force_login(ada)
    assert "subscribe-box" not in client.get(post.get_absolute_url()).content.decode()
    assert "subscribe-box" not in client.get(f"/@{ada.username}/").content.decode()
    client.force_login(rosa)
    assert "subscribe-box" in client.get(post.get_absolute_url()).content.decode()
    assert "subscribe-box" in client.get(f"/@{ada.username}/").content.decode()


def test_a_readers_profile_has_no_empty_posts_section(client, rosa) -> None:
    page = client.get(f"/@{rosa.username}/").content.decode()
    assert "No posts yet." not in page and 'aria-label="Posts by' not in page


def test_an_author_without_posts_sees_their_empty_posts_section(client, ada) -> None:
    client.force_login(ada)
    assert "No posts yet." in client.get(f"/@{ada.username}/").content.decode()


def test_a_moderators_comment_carries_a_badge(client, ada, rosa) -> None:
    from accounts.roles import MODERATORS
    from tests.factories import comment_as, make_user, relax_moderation

    relax_moderation()
    milo = make_user("milo", role=MODERATORS)
    post = make_post(ada, "Discussed")
    comment_as(milo, post, "Please keep it civil.")
    comment_as(rosa, post, "Fair point.")
    page = client.get(post.get_absolute_url()).content.decode()
    chunks = page.split('<li class="comment')[1:]
    [by_milo] = [chunk for chunk in chunks if "Please keep it civil." in chunk]
    [by_rosa] = [chunk for chunk in chunks if "Fair point." in chunk]
    assert '<span class="badge moderator-badge">Moderator</span>' in by_milo
    assert "moderator-badge" not in by_rosa


# --- A banned reader -----------------------------------------------------------------


@pytest.fixture
def banned_rosa(ada, rosa):
    from blog.models import Ban
    from tests.factories import comment_as, relax_moderation

    relax_moderation()
    post = make_post(ada, "Argued over")
    comment_as(rosa, post, "Said before the ban.")
    comment_as(ada, post, "The author's own remark.")
    until = timezone.now() + timezone.timedelta(days=3)
    Ban.objects.create(user=rosa, email=rosa.email, reason="harassment", until=until)
    return post


def test_a_banned_reader_is_told_before_writing_and_offered_no_form_or_reply(client, rosa, banned_rosa) -> None:
    client.force_login(rosa)
    page = client.get(banned_rosa.get_absolute_url()).content.decode()
    assert "You can&#x27;t take part here until" in page and "Harassment" in page
    assert 'id="comment-form"' not in page
    assert ">Reply</a>" not in page and ">Flag</a>" not in page and ">Edit</a>" not in page
    assert ">Delete</a>" in page  # their own comment they may still take back


def test_other_readers_still_get_the_form_and_buttons(client, bo, rosa, banned_rosa) -> None:
    client.force_login(rosa)
    client.get(banned_rosa.get_absolute_url())  # the banned reader's page is not shared with anyone
    client.force_login(bo)
    page = client.get(banned_rosa.get_absolute_url()).content.decode()
    assert 'id="comment-form"' in page and ">Reply</a>" in page and "take part here" not in page
