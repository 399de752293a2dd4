"""What assistive technology reads, checked in the HTML: the comment tree's
nesting, the like buttons' names and states, errors tied to their fields.
(axe-core runs on every page in tests/browser.)"""

import re
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from blog.models import Comment, Subscriber
from blog.newsletter import emails
from tests.factories import make_post, relax_moderation


class ListDepths(HTMLParser):
    """The number of <ol>/<ul> around each element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.open_lists = 0
        self.depths: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ol", "ul"):
            self.open_lists += 1
        if element_id := dict(attrs).get("id"):
            self.depths[element_id] = self.open_lists

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ol", "ul"):
            self.open_lists -= 1


def depths(html: str) -> dict[str, int]:
    parser = ListDepths()
    parser.feed(html)
    assert parser.open_lists == 0, "every list is closed"
    return parser.depths


def test_the_comment_tree_is_nested_lists(client, ada, rosa, bo) -> None:
    post = make_post(ada, "Threads")

    def say(body: str, parent: Comment | None = None) -> Comment:
        level = parent.level + 1 if parent else 1
        html = f"<p>{body}</p>"
        return Comment.objects.create(
            post=post, author=rosa, body=body, body_html=html, parent=parent, reply_to=parent, level=level
        )

    first = say("first")
    reply = say("reply", first)
    deeper = say("deeper", reply)
    sibling = say("sibling", first)
    second = say("second")
    for reader in (None, bo):  # the cached signed-out list and a signed-in one
        if reader:
            client.force_login(reader)
        found = depths(client.get(post.get_absolute_url()).text)
        level = {c: found[f"comment-{c.pk}"] for c in (first, reply, deeper, sibling, second)}
        assert level[first] == level[second]
        assert level[reply] == level[sibling] == level[first] + 1
        assert level[deeper] == level[first] + 2


def test_the_like_button_says_like_and_the_count_and_whether_pressed(client, ada, rosa) -> None:
    post = make_post(ada, "Liked")
    client.force_login(rosa)
    page = client.get(post.get_absolute_url()).text
    assert 'aria-pressed="false" aria-label="Like, 0 likes"' in page
    client.post(reverse("blog:like", args=[post.slug]), {"liked": "1"})
    page = client.get(post.get_absolute_url()).text
    assert 'aria-pressed="true" aria-label="Like, 1 like"' in page


def test_comment_like_buttons_say_their_count(client, ada, rosa) -> None:
    post = make_post(ada, "Talk")
    Comment.objects.create(post=post, author=ada, body="x", body_html="<p>x</p>", like_count=12)
    client.force_login(rosa)
    assert 'aria-label="Like, 12 likes"' in client.get(post.get_absolute_url()).text


def test_editor_errors_are_tied_to_their_fields(client, ada) -> None:
    client.force_login(ada)
    page = client.post(reverse("blog:post_new"), {"title": "", "body": "", "action": "save"}).text
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="id_title_error"' in page
    assert 'id="id_title_error"' in page


def test_a_post_page_has_a_skip_link_to_the_article(client, ada) -> None:
    page = client.get(make_post(ada, "Skip").get_absolute_url()).text
    assert '<a class="skip" href="#article-body">Skip to the article</a>' in page
    assert 'id="article-body" tabindex="-1"' in page


def test_motion_is_off_for_readers_who_ask() -> None:
    css = (Path(settings.BASE_DIR) / "static/css/site.css").read_text()
    assert "@media (prefers-reduced-motion: reduce)" in css


def described_by(html: str, element_id: str) -> list[str]:
    """The ids named by aria-describedby on the element with this id, and whether it is marked invalid."""
    match = re.search(rf'<(?:textarea|input)[^>]*\bid="{element_id}"[^>]*>', html)
    assert match, f"no field #{element_id}"
    tag = match.group(0)
    assert 'aria-invalid="true"' in tag, f"#{element_id} is not marked invalid: {tag}"
    described = re.search(r'aria-describedby="([^"]*)"', tag)
    return described.group(1).split() if described else []


def assert_error_tied(html: str, field_id: str, message: str) -> None:
    for error_id in described_by(html, field_id):
        if re.search(rf'id="{error_id}"[^>]*>[^<]*{re.escape(message)}', html):
            return
    raise AssertionError(f"the error {message!r} is not tied to #{field_id}")


def test_a_refused_comment_ties_its_error_to_the_kept_text(client, ada, rosa) -> None:
    relax_moderation()
    post = make_post(ada, "Talk")
    client.force_login(rosa)
    response = client.post(reverse("blog:comment_create", args=[post.slug]), {"body": "x" * 10_001})
    assert response.status_code == 400
    assert_error_tied(response.text, "comment-body", "Comments can be at most")


def test_a_refused_comment_edit_ties_its_error_to_the_text(client, ada, rosa) -> None:
    post = make_post(ada, "Talk")
    comment = Comment.objects.create(post=post, author=rosa, body="Typo", body_html="<p>Typo</p>")
    client.force_login(rosa)
    response = client.post(reverse("blog:comment_edit", args=[comment.pk]), {"body": "x" * 10_001})
    assert response.status_code == 400
    assert_error_tied(response.text, "id_body", "Comments can be at most")


def test_a_refused_restack_note_ties_its_error_to_the_note(client, ada, rosa) -> None:
    post = make_post(ada, "Worth it")
    client.force_login(rosa)
    response = client.post(reverse("blog:restack", args=[post.slug]), {"note": "x" * 501})
    assert response.status_code == 400
    assert_error_tied(response.text, "id_note", "Keep the note to 500 characters")


def test_emails_follow_the_readers_colour_scheme(db) -> None:
    message = emails.confirmation_message(Subscriber.objects.create(email="new@example.com"))
    [(html, _mimetype)] = message.alternatives
    assert '<meta name="color-scheme" content="light dark">' in html
    dark = html[html.index("@media (prefers-color-scheme: dark)") :]
    assert ".wrap" in dark and "!important" in dark  # beats the inlined light colours


def test_a_wrong_mastodon_server_ties_its_error_to_the_field(client, ada) -> None:
    post = make_post(ada, "Worth it")
    response = client.post(reverse("blog:share", args=[post.slug, "mastodon"]), {"instance": "not a server"})
    assert response.status_code == 400
    assert_error_tied(response.text, "id_instance", "Enter your Mastodon server")
