import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import feedparser
import pytest
from django.utils import timezone

from blog.models import Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_feeds_parse_and_list_published_posts_newest_first(client, ada, url) -> None:
    make_post(ada, "Older", published_at=timezone.now() - timedelta(days=2))
    make_post(ada, "Newer", published_at=timezone.now() - timedelta(days=1))
    make_post(ada, "Unfinished", status=Post.Status.DRAFT)
    feed = feedparser.parse(client.get(url).content)
    assert not feed.bozo
    assert [entry.title for entry in feed.entries] == ["Newer", "Older"]
    assert feed.entries[0].link.endswith("/p/newer/")


def test_sitemap_lists_published_posts(client, ada) -> None:
    post = make_post(ada, "Mapped")
    make_post(ada, "Hidden draft", status=Post.Status.DRAFT)
    tree = ElementTree.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 - our own output
    locations = [node.text for node in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert any(loc.endswith(post.get_absolute_url()) for loc in locations)
    assert not any("hidden-draft" in loc for loc in locations)


def test_robots_txt_names_the_sitemap(client) -> None:
    body = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in body
    assert "Disallow: /write/" in body


def test_missing_page_is_the_styled_404(client) -> None:
    response = client.get("/p/no-such-post/")
    assert response.status_code == 404
    assert "This page isn\u2019t here" in response.content.decode()
    assert 'href="/archive/"' in response.content.decode()


def test_post_page_has_social_and_structured_metadata(client, ada) -> None:
    post = make_post(ada, "Meta matters", subtitle="A subtitle")
    page = client.get(post.get_absolute_url()).content.decode()
    assert '<link rel="canonical" href="http://127.0.0.1:8000/p/meta-matters/">' in page
    assert '<meta property="og:title" content="Meta matters">' in page
    assert '<meta property="og:description" content="A subtitle">' in page
    assert '<meta name="twitter:card"' in page
    [jsonld] = re.findall(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', page, re.S)
    data = json.loads(jsonld)
    assert data["@type"] == "Article" and data["headline"] == "Meta matters"
    assert data["author"]["name"] == "Ada Whitlock"


def test_a_hostile_title_cannot_escape_the_structured_data(client, ada) -> None:
    post = make_post(ada, "</script><script>alert(1)</script>")
    page = client.get(post.get_absolute_url()).content.decode()
    assert page.count('<script type="application/ld+json"') == 1
    assert "<script>alert" not in page


def test_pages_send_a_content_security_policy_without_inline_script(client, ada) -> None:
    post = make_post(ada)
    policy = client.get(post.get_absolute_url()).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "nonce-" not in policy  # a shared page carries no per-visitor nonce
    assert "unsafe-inline" not in policy
    assert "object-src 'none'" in policy
