from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from blog.shared.rendering import COMMENT_TAGS, POST_TAGS, excerpt_from_html, external_links, render_markdown

HOSTILE_INPUTS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    '<svg onload="alert(1)"><circle r=1></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x](https://example.com/a.png" onerror="alert(1))',
    '<a href="https://example.com" onclick="alert(1)">x</a>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<style>body{display:none}</style>",
    '<div style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</div>',
    '<form action="https://evil.example"><input name=password></form>',
    "<textarea><img src=x onerror=alert(1)></textarea>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<template><script>alert(1)</script></template>",
    "<xmp><script>alert(1)</script></xmp>",
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<!--<img src=x onerror=alert(1)>-->",
    "<details open ontoggle=alert(1)>",
    '<video><source onerror="alert(1)"></video>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "[x](  javascript:alert(1)  )",
    '<body onload="alert(1)">',
    "```html\n<script>alert(1)</script>\n```",
    "<plaintext><script>alert(1)</script>",
    '<a href="https://ok.example" target="_blank" rel="opener">tab</a>',
    '<h2 id="main" onmouseover="alert(1)">hijack</h2>',
]

SAFE_SCHEMES = {"", "http", "https", "mailto"}


class _Audit(HTMLParser):
    """Collects every element, attribute and URL the browser would see."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]


def audit(html: str) -> _Audit:
    parser = _Audit()
    parser.feed(html)
    parser.close()
    return parser


def assert_inert(html: str, allowed_tags: set[str]) -> None:
    found = audit(html)
    assert found.tags <= allowed_tags, f"unexpected elements {found.tags - allowed_tags} in {html!r}"
    for tag, name, value in found.attributes:
        assert not name.startswith("on"), f"event handler {name} on <{tag}>"
        assert name not in {"style", "srcdoc", "formaction", "target"}, f"{name} on <{tag}>"
        if name in {"href", "src"}:
            scheme = urlsplit(value.strip().lower()).scheme
            assert scheme in SAFE_SCHEMES, f"{name}={value!r} on <{tag}>"


@pytest.mark.parametrize("source", HOSTILE_INPUTS)
def test_hostile_post_markdown_renders_inert(source: str) -> None:
    assert_inert(render_markdown(source), POST_TAGS)


@pytest.mark.parametrize("source", HOSTILE_INPUTS)
def test_hostile_comment_markdown_renders_inert(source: str) -> None:
    assert_inert(render_markdown(source, comment=True), COMMENT_TAGS)


def test_raw_html_is_reduced_to_its_text() -> None:
    html = render_markdown("Before <b onclick='x()'>bold</b> <marquee>after</marquee>")
    assert "<b>bold</b>" in html
    assert "marquee" not in html
    assert "after" in html


def test_footnotes_become_linked_sources() -> None:
    html = render_markdown("A claim.[^1]\n\n[^1]: Reuters, https://example.org/report")
    assert 'href="#md-fn:1"' in html
    assert '<li id="md-fn:1">' in html
    assert 'href="https://example.org/report"' in html


def test_block_quotes_tables_and_code_survive() -> None:
    source = "> A report\n> — Agency\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint('hi')\n```\n"
    html = render_markdown(source)
    assert "<blockquote>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert 'class="highlight"' in html and "print" in html


def test_headings_get_anchor_links() -> None:
    html = render_markdown("## The first argument")
    assert '<h2 id="md-the-first-argument">' in html
    assert 'href="#md-the-first-argument"' in html


def test_smart_quotes_are_typeset() -> None:
    assert "&ldquo;quoted&rdquo;" in render_markdown('"quoted"')


def test_external_links_are_nofollow_and_internal_links_are_not(settings) -> None:
    settings.SITE_URL = "https://dispatch.example"
    html = render_markdown("[out](https://elsewhere.example/) [in](https://dispatch.example/p/x/) [rel](/archive/)")
    out, inside, relative = html.split("</a>")[:3]
    assert 'rel="nofollow noopener"' in out
    assert "rel=" not in inside
    assert "rel=" not in relative


def test_comment_links_are_marked_user_generated() -> None:
    html = render_markdown("[spam](https://spam.example/)", comment=True)
    assert 'rel="nofollow ugc noopener"' in html


def test_comments_have_no_headings_or_images() -> None:
    html = render_markdown("# Shout\n\n![pic](https://example.com/x.png)", comment=True)
    assert "<h1" not in html
    assert "<img" not in html


def test_excerpt_is_the_plain_first_paragraph() -> None:
    html = render_markdown("# Title\n\nFirst *paragraph* & more.\n\nSecond.")
    assert excerpt_from_html(html) == "First paragraph & more."


def test_excerpt_leaves_out_footnote_markers() -> None:
    html = render_markdown("A claim.[^1] More.\n\n[^1]: Source")
    assert excerpt_from_html(html) == "A claim. More."


def test_long_excerpt_is_cut_at_a_word() -> None:
    html = render_markdown("word " * 200)
    excerpt = excerpt_from_html(html, limit=50)
    assert excerpt.endswith("…")
    assert len(excerpt) <= 51


SITE_LOOKALIKES = [
    '<div class="share-panel"><a href="/accounts/login/">Session expired, sign in</a></div>',
    '<span class="badge">Author</span>',
    '<span class="hp">hidden from moderators</span>',
    '<div id="comment-12">hijacked anchor</div>',
    '<h2 id="comments">hijacked</h2>',
    '<sup id="main">x</sup><li id="engagement-top">y</li>',
]


@pytest.mark.parametrize("source", SITE_LOOKALIKES)
def test_comments_keep_no_class_or_id(source: str) -> None:
    found = audit(render_markdown(source, comment=True))
    assert [name for _, name, _ in found.attributes if name in ("class", "id")] == []


def test_code_in_comments_keeps_no_class_either() -> None:
    assert "class=" not in render_markdown("```python\nprint(1)\n```", comment=True)


@pytest.mark.parametrize("source", SITE_LOOKALIKES)
def test_posts_keep_only_the_renderers_classes_and_prefixed_ids(source: str) -> None:
    found = audit(render_markdown(source))
    assert [value for _, name, value in found.attributes if name == "class"] == []
    assert all(value.startswith("md-") for _, name, value in found.attributes if name == "id")


def test_a_class_list_keeps_only_the_renderers_classes() -> None:
    html = render_markdown('<span class="badge k share-panel">x</span>')
    assert '<span class="k">x</span>' in html


def test_every_id_a_post_gets_starts_with_the_prefix_no_template_uses() -> None:
    from pathlib import Path

    source = "## A heading\n\nA claim.[^1]\n\n## comments\n\n[^1]: A source."
    ids = [value for _, name, value in audit(render_markdown(source)).attributes if name == "id"]
    assert ids and all(value.startswith("md-") for value in ids)
    templates = Path(__file__).resolve().parents[2] / "templates"
    assert not any('id="md-' in path.read_text() for path in templates.rglob("*.html"))


def test_in_page_links_of_a_post_reach_their_targets() -> None:
    source = "## Method\n\nA claim.[^1] See [the method](#method).\n\n[^1]: A source."
    found = audit(render_markdown(source))
    ids = {value for _, name, value in found.attributes if name == "id"}
    fragments = [value[1:] for _, name, value in found.attributes if name == "href" and value.startswith("#")]
    assert len(fragments) == 4  # heading permalink, footnote, back-reference, the writer's own link
    assert set(fragments) <= ids


@pytest.mark.parametrize(
    "href",
    [
        "//evil.example/x",
        "/\\evil.example/x",
        "\\\\evil.example",
        " //evil.example",
        "/&#9;/evil.example",
        "&#47;&#92;evil.example",
        "https://evil.example",
    ],
)
def test_links_to_other_hosts_are_nofollow_however_they_are_spelled(href: str) -> None:
    html = render_markdown(f'<a href="{href}">x</a>', comment=True)
    assert 'rel="nofollow ugc noopener"' in html, html
    assert len(external_links(html)) == 1


def test_links_within_the_site_are_not_counted(settings) -> None:
    settings.SITE_URL = "https://dispatch.example"
    html = render_markdown("[a](/p/x/) [b](#comments) [c](https://dispatch.example/p/y/)", comment=True)
    assert external_links(html) == []


@pytest.mark.django_db
def test_the_migration_renders_stored_comments_and_posts_again(ada) -> None:
    import importlib

    from django.apps import apps

    from blog.models import Comment, Post
    from tests.factories import make_post

    post = make_post(ada, body="## Heading")
    comment = Comment.objects.create(post=post, author=ada, body='<span class="badge">x</span>', body_html="")
    Post.objects.filter(pk=post.pk).update(body_html='<h2 id="heading">Heading</h2>')
    Comment.objects.filter(pk=comment.pk).update(body_html='<span class="badge">x</span>')
    importlib.import_module("blog.migrations.0008_rerender_markdown").rerender(apps, None)
    assert 'id="md-heading"' in Post.objects.get(pk=post.pk).body_html
    assert Comment.objects.get(pk=comment.pk).body_html == "<p><span>x</span></p>"
