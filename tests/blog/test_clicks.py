import pytest
from django.core import mail, signing

from blog.models import LinkClick, Post, Send
from blog.newsletter import clicks
from tests.blog.test_pageviews import BROWSER
from tests.factories import make_post, make_subscribers, publish

pytestmark = pytest.mark.django_db

REPORT = "https://example.org/report.pdf?page=4&lang=en"


@pytest.fixture
def post(ada) -> Post:
    """A post that went out to subscribers: its links redirect."""
    post = make_post(ada, "Linked")
    Send.objects.create(post=post)
    return post


def path_of(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def test_a_click_is_counted_per_post_and_link_and_sent_on(client, post) -> None:
    link = clicks.click_url(post, REPORT)
    assert link.startswith("http://127.0.0.1:8000/r/")
    for address in ["198.51.100.1", "198.51.100.2"]:
        response = client.get(path_of(link), REMOTE_ADDR=address, **BROWSER)
        assert response.status_code == 302 and response.url == REPORT
    client.get(path_of(clicks.click_url(post, "https://example.org/other")), **BROWSER)
    assert dict(LinkClick.objects.filter(post=post).values_list("url", "clicks")) == {
        REPORT: 2,
        "https://example.org/other": 1,
    }


def test_a_tampered_link_is_refused_and_nothing_counted(client, post) -> None:
    token = clicks.click_token(post, REPORT)
    forged = signing.Signer(salt="another-salt").sign_object({"p": post.pk, "u": "https://evil.example/"})
    for bad in [token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "x" + token, forged, "nonsense"]:
        response = client.get(f"/r/{bad}/", **BROWSER)
        assert response.status_code == 400
        assert "This link is not valid." in response.content.decode()
    assert not LinkClick.objects.exists()


def test_only_addresses_that_were_signed_are_followed(client, post) -> None:
    # Someone who knew the key still could not send readers to a script.
    signed_script = clicks.click_token(post, "javascript:alert(1)")
    assert client.get(f"/r/{signed_script}/", **BROWSER).status_code == 400
    assert clicks.click_url(post, "javascript:alert(1)") == "javascript:alert(1)"
    assert clicks.click_url(post, "mailto:ada@example.com") == "mailto:ada@example.com"


def test_a_link_of_a_deleted_post_is_refused(client, post) -> None:
    link = clicks.click_url(post, REPORT)
    Post.objects.filter(pk=post.pk).delete()
    assert client.get(path_of(link), **BROWSER).status_code == 400


def test_scanners_and_previewers_are_sent_on_but_not_counted(client, post) -> None:
    response = client.get(
        path_of(clicks.click_url(post, REPORT)), HTTP_USER_AGENT="Mozilla/5.0 (compatible; bingbot/2.0)"
    )
    assert response.status_code == 302
    assert not LinkClick.objects.exists()


def test_a_post_is_refused(client, post) -> None:
    assert client.post(path_of(clicks.click_url(post, REPORT))).status_code == 405
    assert not LinkClick.objects.exists()


def test_links_to_this_site_arrive_marked_as_from_email(client, post) -> None:
    response = client.get(path_of(clicks.click_url(post, "http://127.0.0.1:8000/p/linked/?x=1")), **BROWSER)
    assert response.url == "http://127.0.0.1:8000/p/linked/?x=1&utm_medium=email"


def test_every_web_link_in_the_email_is_rewritten_except_unsubscribing(post) -> None:
    html = (
        '<p><a href="https://example.org/report.pdf?page=4&amp;lang=en">report</a> '
        '<a class="x" href="http://127.0.0.1:8000/p/linked/">read</a> <a href="mailto:a@example.com">mail</a> '
        '<a href="http://127.0.0.1:8000/unsubscribe/abc/">Unsubscribe</a> <img src="https://example.org/i.png"></p>'
    )
    text = f"Read it: http://127.0.0.1:8000/p/linked/\nSource: {REPORT}.\nUnsubscribe: http://127.0.0.1:8000/unsubscribe/abc/"
    new_html, new_text = clicks.rewrite_links(post, html, text)
    assert new_html.count("/r/") == 2 and "example.org/report" not in new_html
    assert 'href="http://127.0.0.1:8000/unsubscribe/abc/"' in new_html
    assert 'href="mailto:a@example.com"' in new_html and 'src="https://example.org/i.png"' in new_html
    assert new_text.count("/r/") == 2 and new_text.endswith("Unsubscribe: http://127.0.0.1:8000/unsubscribe/abc/")
    report_token = new_html.split('href="http://127.0.0.1:8000/r/')[1].split("/", 1)[0]
    assert clicks.read_click_token(report_token) == (post.pk, REPORT)  # &amp; read back as &
    assert clicks.read_click_token(new_text.split("Source: http://127.0.0.1:8000/r/")[1].split("/")[0])[1] == REPORT


def test_click_counting_off_leaves_links_alone_and_counts_nothing(client, settings, post) -> None:
    link = clicks.click_url(post, REPORT)
    settings.NEWSLETTER_CLICK_COUNTING = False
    assert clicks.rewrite_links(post, '<a href="https://example.org/">x</a>', "https://example.org/") == (
        '<a href="https://example.org/">x</a>',
        "https://example.org/",
    )
    assert client.get(path_of(link), **BROWSER).url == REPORT  # links already sent still arrive
    assert not LinkClick.objects.exists()


def test_a_newsletter_link_is_clicked_and_shows_on_the_posts_page(
    client, ada, django_capture_on_commit_callbacks
) -> None:
    make_subscribers(active=1)
    post = make_post(ada, "Sourced", status=Post.Status.DRAFT, body="See [the report](https://example.org/report.pdf).")
    with django_capture_on_commit_callbacks(execute=True):
        publish(post)
    [message] = mail.outbox
    tokens = [part.split("/", 1)[0] for part in message.alternatives[0].content.split("http://127.0.0.1:8000/r/")[1:]]
    [report] = [token for token in tokens if clicks.read_click_token(token)[1] == "https://example.org/report.pdf"]
    assert "example.org" not in message.alternatives[0].content
    assert "https://example.org/report.pdf" not in message.body
    text_links = [line for line in message.body.split() if "/r/" in line]
    assert len(text_links) >= 2  # the report and the post's own address
    response = client.get(f"/r/{report}/", **BROWSER)
    assert response.url == "https://example.org/report.pdf"
    client.force_login(ada)
    rows = client.get(f"/write/{post.pk}/insights/?csv=clicks").content.decode()
    assert "https://example.org/report.pdf,1" in rows


def test_in_a_digest_each_posts_link_counts_for_that_post(ada, post) -> None:
    other = make_post(ada, "Second")
    html = (
        f'<a href="http://127.0.0.1:8000{post.get_absolute_url()}">one</a>'
        f'<a href="http://127.0.0.1:8000{other.get_absolute_url()}#comments">two</a>'
        '<a href="http://127.0.0.1:8000/">home</a>'
    )
    new_html, new_text = clicks.rewrite_digest_links(
        [post, other], html, f"http://127.0.0.1:8000{other.get_absolute_url()}"
    )
    tokens = [part.split("/", 1)[0] for part in new_html.split("http://127.0.0.1:8000/r/")[1:]]
    assert [clicks.read_click_token(token)[0] for token in tokens] == [post.pk, other.pk]
    assert new_html.endswith('<a href="http://127.0.0.1:8000/">home</a>')
    assert clicks.read_click_token(new_text.split("/r/")[1].split("/")[0]) == (
        other.pk,
        f"http://127.0.0.1:8000{other.get_absolute_url()}",
    )
