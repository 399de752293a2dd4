import logging
from copy import copy
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Count, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET
from taggit.models import Tag

from accounts.models import User
from blog import pagecache
from blog.discussion import bans, commentpages, engagement, moderation, readerstate, threads
from blog.models import Post, PostQuerySet, SlugRedirect
from blog.posts import search
from blog.shared.ratelimits import allow, client_ip, too_many_requests

POSTS_PER_PAGE = 10
SEARCH_RATE = "30/m"
logger = logging.getLogger(__name__)
# Signed-out readers share one rendering of these pages (blog/pagecache/).
shared_listing = pagecache.shared_page(lambda **kwargs: pagecache.LISTINGS, params=frozenset({"page"}))
shared_post = pagecache.shared_page(
    lambda slug: pagecache.post_scope(slug), params=frozenset({"sort", "after", "comment"})
)


def _page(request: HttpRequest, posts: PostQuerySet) -> Page[Post]:
    return Paginator(posts, POSTS_PER_PAGE).get_page(request.GET.get("page"))


@shared_listing
def home(request: HttpRequest) -> HttpResponse:
    page = _page(request, Post.objects.published().for_listing())
    return render(request, "blog/posts/home.html", {"page": page})


# On a post's page, what a signed-in reader's own values fill in (blog/pagecache/:
# filled_shell); everything else they see is alike for readers in the same state.
FILLED = ("account_nav", "comments_html", "share_url", "verified_email", "form_token")


@shared_post
def post_detail(request: HttpRequest, slug: str) -> HttpResponse:
    versions = pagecache.versions(request, pagecache.post_scope(slug))  # before the database: see versions()
    kept = f"post:{slug}:{':'.join(versions)}"
    post = pagecache.local_copy(kept) if request.user.is_authenticated else None
    if post is not None and post.is_live:  # a live post is for everyone; its counters come with the reader's state
        post = copy(post)
    else:
        visible = Post.objects.visible_to(request.user).select_related("author").defer(*Post.NOT_ON_PAGE)
        post = visible.filter(slug=slug).first()
        if post is None:
            old = SlugRedirect.objects.filter(old_slug=slug, post__in=visible).select_related("post").first()
            if old is None:
                raise Http404("No such post.")
            return redirect(old.post, permanent=True)
        if post.is_live:
            pagecache.keep_local_copy(kept, copy(post))
    if "ref" in request.GET:
        engagement.record_referral_visit(request, post, request.GET["ref"])
    sort = request.GET.get("sort", "")
    sort = sort if sort in threads.SORTS else "oldest"
    # Signed out: no token, no cookie, so the page is the same for everyone (blog/shared/origins.py).
    token = get_token(request) if request.user.is_authenticated else ""
    reader = _personal_parts(request, post, sort, token, versions)
    if (
        not _shares_shell(request, post)
        or reader["ban_refusal"]
        or (reader["restacked"] and engagement.has_held_note(post, request.user))
    ):
        return _render_post(request, post, sort, reader)
    # The state that changes what else the page shows picks the shared rendering:
    # counts included, so a reader's own like or share shows at once.
    state = (reader["liked"], reader["restacked"], reader["subscribed"], bool(reader["verified_email"]))
    variant = "reader:{}:{}:{}:{}:{}:{}:{}".format(*state, post.like_count, post.share_count, post.restack_count)
    # Marked whatever this reader's values: others fill the same rendering (an address
    # to subscribe with shows only if they have one, which `state` tells apart).
    marks = {name: pagecache.mark(name) if reader[name] or name != "verified_email" else None for name in FILLED}
    render_shell = lambda: _render_post(request, post, sort, {**reader, **marks})  # noqa: E731
    values = {name: str(conditional_escape(reader[name])) for name in FILLED if marks[name]}
    return pagecache.filled_shell(request, pagecache.post_scope(slug), variant, render_shell, values, token)


def _personal_parts(request: HttpRequest, post: Post, sort: str, token: str, versions: list[str]) -> dict[str, Any]:
    """What differs from one reader to the next on a post's page."""
    user = request.user
    ip = client_ip(request) or None
    known = readerstate.state(post, user, ip) if user.is_authenticated else readerstate.ReaderState()
    if user.is_authenticated:
        post.like_count, post.share_count, post.restack_count = known.counts
    after, comment = request.GET.get("after"), request.GET.get("comment")
    comment_page = commentpages.page(post, user, sort, token, after, comment, versions, known)
    return {
        "comment_page": comment_page,
        "comments_html": comment_page.html,
        "account_nav": _account_nav(request, token),
        "form_token": moderation.form_token(),
        "liked": known.liked,
        "restacked": known.restacked,
        "subscribed": known.subscribed,
        "verified_email": known.verified_email,
        # Said before they write, with when it ends; asked again only for the banned (a rare page).
        "ban_refusal": bans.refusal(user, ip) if known.banned else None,
        **engagement.share_menu(post, user),
    }


# A signed-in reader's links in the header, kept in each process per handle and
# role, the sign-out form's CSRF token filled in per request.
_NAVS: dict[tuple[str, bool], str] = {}
_NAV_CSRF = pagecache.mark("nav-csrf")


def _account_nav(request: HttpRequest, token: str) -> str:
    user = request.user
    if not user.is_authenticated or user.is_moderator:  # a moderator's shows the queue, which moves by the minute
        return render_to_string("includes/header.html#account", {"user": user, "request": request, "csrf_token": token})
    key = (user.username, user.is_author)
    if key not in _NAVS:
        if len(_NAVS) >= 10_000:
            _NAVS.clear()
        _NAVS[key] = render_to_string("includes/header.html#account", {"user": user, "csrf_token": _NAV_CSRF})
    return mark_safe(_NAVS[key].replace(_NAV_CSRF, token))


def _render_post(request: HttpRequest, post: Post, sort: str, reader: dict[str, Any]) -> HttpResponse:
    prefetch_related_objects([post], "tags")
    context = {
        "post": post,
        "can_edit": post.is_editable_by(request.user),
        "comment_count": reader["comment_page"].comment_count,
        "sort": sort,
        "sorts": threads.SORTS,
        "related": Post.objects.related_to(post),
        "restacks": engagement.recent_restacks(post, request.user),
        **reader,
    }
    return render(request, "blog/posts/detail.html", context)


def _shares_shell(request: HttpRequest, post: Post) -> bool:
    """Whether this signed-in reader gets a rendering shared with other readers,
    their own values filled in. The post's author, editors and moderators see
    more than a reader and get theirs live, as does anyone with a message to
    show or a referral to record."""
    user = request.user
    return (
        user.is_authenticated
        and post.is_live
        and request.method == "GET"
        and set(request.GET) <= {"sort", "after", "comment", *pagecache.CAMPAIGN_PARAMS}
        and not len(messages.get_messages(request))
        and not (post.author_id == user.pk or user.is_moderator or post.is_editable_by(user))
    )


def tag_index(request: HttpRequest) -> HttpResponse:
    """Every tag with published posts, most used first."""
    published = Post.objects.published().values("pk")
    tags = (
        Tag.objects.filter(taggit_taggeditem_items__object_id__in=published)
        .annotate(post_count=Count("taggit_taggeditem_items", distinct=True))
        .order_by("-post_count", "name")
    )
    return render(request, "blog/posts/tag_index.html", {"tags": tags})


@shared_listing
def tag_posts(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Tag, slug=slug)
    page = _page(request, Post.objects.published().filter(tags=tag).for_listing())
    return render(request, "blog/posts/tag.html", {"tag": tag, "page": page})


@shared_listing
def profile(request: HttpRequest, handle: str) -> HttpResponse:
    person = get_object_or_404(User.objects.with_handle(handle), is_active=True)
    if person.username != handle:
        return redirect(person, permanent=True)
    page = _page(request, Post.objects.published().filter(author=person).for_listing())
    context = {"person": person, "page": page, **engagement.profile_activity(person, request.user)}
    return render(request, "blog/posts/profile.html", context)


@shared_listing
def archive(request: HttpRequest) -> HttpResponse:
    posts = (
        Post.objects.published()
        .select_related("author")
        .only("title", "slug", "published_at", "author__username", "author__display_name")
    )
    return render(request, "blog/posts/archive.html", {"posts": posts})


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /write/",
        "Disallow: /admin/",
        "Disallow: /accounts/",
        f"Sitemap: {request.build_absolute_uri(reverse('blog:sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@require_GET
def search_posts(request: HttpRequest) -> HttpResponse:
    """Published posts matching ?q=, best first, with the matching passage."""
    if not allow(request, "search", SEARCH_RATE):
        return too_many_requests(request, "That's a lot of searches from here. Please wait a minute and try again.")
    query = search.parse(request.GET.get("q", ""))
    page = None
    if query.is_searchable:
        posts = Post.objects.published().select_related("author")
        page = search.results_page(query, posts, request.GET.get("page"), POSTS_PER_PAGE)
    context = {"query": query, "page": page, "hits": page.hits if page else [], "max_length": search.MAX_QUERY_LENGTH}
    return render(request, "blog/posts/search.html", context)
