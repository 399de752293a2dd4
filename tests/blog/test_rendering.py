from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from blog.rendering import COMMENT_TAGS, POST_TAGS, excerpt_from_html, render_markdown

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
    assert 'href="#fn:1"' in html
    assert '<li id="fn:1">' in html
    assert 'href="https://example.org/report"' in html


def test_block_quotes_tables_and_code_survive() -> None:
    source = "> A report\n> — Agency\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint('hi')\n```\n"
    html = render_markdown(source)
    assert "<blockquote>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert 'class="highlight"' in html and "print" in html


def test_headings_get_anchor_links() -> None:
    html = render_markdown("## The first argument")
    assert '<h2 id="the-first-argument">' in html
    assert 'href="#the-first-argument"' in html


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
