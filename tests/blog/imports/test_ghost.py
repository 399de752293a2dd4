import json

import pytest
from django.core import mail

from blog.models import Comment, Post, Subscriber
from blog.transfers.imports import run_import
from tests.blog.imports.conftest import FIXTURES

pytestmark = pytest.mark.django_db

EXPORT = FIXTURES / "ghost" / "export.json"


def test_it_imports_posts_authors_and_public_tags(sam) -> None:
    report = run_import(EXPORT, user=sam)

    assert not report.refused and report.source == "ghost"
    bridge = Post.objects.get(slug="the-bridge-vote")
    assert bridge.author.email == "tess@harbour.example.com"
    assert Post.objects.get(slug="budget-in-one-table").author.display_name == "Dan Okafor"
    assert sorted(bridge.tags.names()) == ["Budget", "Politics"]
    assert Post.objects.get(slug="the-port-is-the-town").tags.names()[0] == "Ferry"  # not the #internal tag
    assert bridge.excerpt == "What the council decided."
    assert Post.objects.get(slug="notes-for-later").status == Post.Status.DRAFT
    assert Post.objects.get(slug="for-members").status == Post.Status.DRAFT
    assert "“For members” was for paid members only on Ghost; imported as a draft." in report.problems
    assert not Post.objects.filter(slug="about").exists()
    assert report.counts["posts"]["created"] == 5


def test_bodies_from_html_and_from_lexical(sam) -> None:
    run_import(EXPORT, user=sam)

    bridge = Post.objects.get(slug="the-bridge-vote")
    assert "> — Councillor Mara Ellis" in bridge.body
    assert "[^1]: Council minutes, item 7." in bridge.body
    assert "<script" not in bridge.body_html and "onerror" not in bridge.body_html
    assert "<table>" in Post.objects.get(slug="budget-in-one-table").body_html
    port = Post.objects.get(slug="the-port-is-the-town")
    assert "**bold**" in port.body and "[a link](https://example.org/port)" in port.body
    assert "> The port is the town." in port.body and "-   *Ships*" in port.body  # four spaces: nests right


def test_members_become_subscribers_by_newsletter_subscription(sam) -> None:
    report = run_import(EXPORT, user=sam)

    assert Subscriber.objects.get(email="ines@example.com").status == Subscriber.Status.ACTIVE
    assert Subscriber.objects.get(email="chen@example.com").status == Subscriber.Status.UNSUBSCRIBED
    assert Subscriber.objects.get(email="fatima@example.com").status == Subscriber.Status.BOUNCED
    assert Subscriber.objects.count() == 18
    assert "3 members had a paid or complimentary plan on Ghost" in " ".join(report.notes)
    problems = " ".join(report.problems)
    assert "“broken-address” is not a valid e-mail address" in problems
    assert "Ines@Example.com repeats line 1" in problems
    assert mail.outbox == []


def test_comments_keep_threads_and_states(sam) -> None:
    run_import(EXPORT, user=sam)

    assert Comment.objects.count() == 10
    reply = Comment.objects.get(body="Not quite: the money comes next year.")
    assert reply.reply_to.body == "Eleven years! Finally." and reply.level == 2
    assert reply.author.email == "omar@example.com"
    assert Comment.objects.get(body="Something rude.").status == Comment.Status.REMOVED
    assert Comment.objects.filter(status=Comment.Status.APPROVED).count() == 7
    assert mail.outbox == []


def test_old_ghost_addresses_redirect(client, sam) -> None:
    run_import(EXPORT, user=sam)

    response = client.get("/the-bridge-vote/")

    assert response.status_code == 301 and response["Location"] == "/p/the-bridge-vote/"


def test_rerunning_changes_nothing(sam) -> None:
    run_import(EXPORT, user=sam)
    rows = [list(m.objects.order_by("pk").values()) for m in (Post, Comment, Subscriber)]

    report = run_import(EXPORT, user=sam)

    assert [list(m.objects.order_by("pk").values()) for m in (Post, Comment, Subscriber)] == rows
    assert report.counts["posts"]["created"] == 0 and report.counts["comments"]["created"] == 0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"posts": []}, "has no “data” object"),
        ({"meta": {"version": "0.4.2"}, "data": {"posts": []}}, "Ghost export version “0.4.2” is not one"),
        ({"meta": {"version": "5.1.0"}, "data": {"tags": []}}, "has no list of posts"),
        ({"meta": {"version": "5.1.0"}, "data": {"posts": [], "members": {"a": 1}}}, "“members” table"),
    ],
)
def test_json_of_the_wrong_shape_or_version_is_refused(tmp_path, sam, document, message) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document))

    report = run_import(path, user=sam)

    assert message in report.refused
    assert not Post.objects.exists()


def test_broken_json_is_refused(tmp_path, sam) -> None:
    path = tmp_path / "export.json"
    path.write_text('{"db": [{"meta": ')

    assert "not valid JSON" in run_import(path, user=sam).refused


def test_feature_images_become_covers_and_failures_are_reported(sam) -> None:
    report = run_import(EXPORT, user=sam)

    bridge = Post.objects.get(slug="the-bridge-vote")
    assert bridge.cover.name.startswith("imports/") and bridge.cover_alt == "The bridge at dawn"
    assert not Post.objects.get(slug="budget-in-one-table").cover
    assert (
        "__GHOST_URL__/content/images/2025/04/budget.png: not a full web address (relative to the old site?); "
        "“The budget in one table” has no cover image"
    ) in report.image_failures
