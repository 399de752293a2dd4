from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from taggit.models import Tag

from blog import engagement, moderation, threads
from blog.models import Post, PostQuerySet, SlugRedirect

POSTS_PER_PAGE = 10


def _page(request: HttpRequest, posts: PostQuerySet) -> Page[Post]:
    return Paginator(posts, POSTS_PER_PAGE).get_page(request.GET.get("page"))


def home(request: HttpRequest) -> HttpResponse:
    page = _page(request, Post.objects.published().for_listing())
    return render(request, "blog/posts/home.html", {"page": page})


def post_detail(request: HttpRequest, slug: str) -> HttpResponse:
    visible = Post.objects.visible_to(request.user).select_related("author").prefetch_related("tags")  # type: ignore[misc]  # taggit
    post = visible.filter(slug=slug).first()
    if post is None:
        old = SlugRedirect.objects.filter(old_slug=slug, post__in=visible).select_related("post").first()
        if old is None:
            raise Http404("No such post.")
        return redirect(old.post, permanent=True)
    if "ref" in request.GET:
        engagement.record_referral_visit(request, post, request.GET["ref"])
    sort = request.GET.get("sort", "")
    sort = sort if sort in threads.SORTS else "oldest"
    context = {
        "post": post,
        "can_edit": post.is_editable_by(request.user),
        **_comments(request, post, sort),
        "sort": sort,
        "sorts": threads.SORTS,
        "form_token": moderation.form_token(),
        "related": Post.objects.related_to(post),
        **engagement.post_engagement(post, request.user),
    }
    return render(request, "blog/posts/detail.html", context)


def _comments(request: HttpRequest, post: Post, sort: str) -> dict:
    if request.user.is_authenticated:
        comments = threads.thread(post, request.user, sort)
        return {"comments": comments, "comment_count": threads.approved_count(comments)}
    # Signed-out readers all see the same list: render it once per change.
    key = threads.public_cache_key(post, sort)
    section = cache.get(key)
    if section is None:
        comments = threads.thread(post, request.user, sort)
        html = render_to_string("blog/comments/_list.html#list", {"comments": comments, "post": post}, request)
        section = {"comment_list": html, "comment_count": threads.approved_count(comments)}
        cache.set(key, section, threads.PUBLIC_TIMEOUT)
    return section


def tag_index(request: HttpRequest) -> HttpResponse:
    """Every tag with published posts, most used first."""
    published = Post.objects.published().values("pk")
    tags = (
        Tag.objects.filter(taggit_taggeditem_items__object_id__in=published)
        .annotate(post_count=Count("taggit_taggeditem_items", distinct=True))
        .order_by("-post_count", "name")
    )
    return render(request, "blog/posts/tag_index.html", {"tags": tags})


def tag_posts(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Tag, slug=slug)
    page = _page(request, Post.objects.published().filter(tags=tag).for_listing())
    return render(request, "blog/posts/tag.html", {"tag": tag, "page": page})


def profile(request: HttpRequest, handle: str) -> HttpResponse:
    person = get_object_or_404(get_user_model(), username__iexact=handle, is_active=True)
    if person.username != handle:
        return redirect(person, permanent=True)
    page = _page(request, Post.objects.published().filter(author=person).for_listing())
    context = {"person": person, "page": page, **engagement.profile_activity(person, request.user)}
    return render(request, "blog/posts/profile.html", context)


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


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return JsonResponse({"status": "error", "database": str(exc)}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
