from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from taggit.models import Tag

from blog.forms import ACTIONS, PostForm
from blog.models import Post, SlugRedirect
from blog.publishing import publish_post, schedule_post, unpublish_post
from blog.rendering import render_markdown

POSTS_PER_PAGE = 10


def author_required(view):
    """Signed-in users who are not authors get 403, visitors go to log in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_author:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _page(request: HttpRequest, posts) -> object:
    return Paginator(posts, POSTS_PER_PAGE).get_page(request.GET.get("page"))


def home(request: HttpRequest) -> HttpResponse:
    page = _page(request, Post.objects.published().for_listing())
    return render(request, "blog/home.html", {"page": page})


def post_detail(request: HttpRequest, slug: str) -> HttpResponse:
    visible = Post.objects.visible_to(request.user).select_related("author").prefetch_related("tags")
    post = visible.filter(slug=slug).first()
    if post is None:
        old = SlugRedirect.objects.filter(old_slug=slug, post__in=visible).select_related("post").first()
        if old is None:
            raise Http404("No such post.")
        return redirect(old.post, permanent=True)
    return render(request, "blog/post_detail.html", {"post": post, "can_edit": post.is_editable_by(request.user)})


def tag_posts(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Tag, slug=slug)
    page = _page(request, Post.objects.published().filter(tags=tag).for_listing())
    return render(request, "blog/tag.html", {"tag": tag, "page": page})


def profile(request: HttpRequest, handle: str) -> HttpResponse:
    person = get_object_or_404(get_user_model(), username__iexact=handle, is_active=True)
    if person.username != handle:
        return redirect(person, permanent=True)
    page = _page(request, Post.objects.published().filter(author=person).for_listing())
    return render(request, "blog/profile.html", {"person": person, "page": page})


def archive(request: HttpRequest) -> HttpResponse:
    posts = (
        Post.objects.published()
        .select_related("author")
        .only("title", "slug", "published_at", "author__username", "author__display_name")
    )
    return render(request, "blog/archive.html", {"posts": posts})


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /write/",
        "Disallow: /admin/",
        "Disallow: /accounts/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
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


@author_required
def desk(request: HttpRequest) -> HttpResponse:
    posts = Post.objects.editable_by(request.user).select_related("author").order_by("-updated_at")
    return render(request, "blog/desk/list.html", {"posts": posts})


@author_required
def post_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, Post(author=request.user))


@author_required
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.editable_by(request.user), pk=pk)
    return _edit(request, post)


def _edit(request: HttpRequest, post: Post) -> HttpResponse:
    action = request.POST.get("action", "save")
    if action not in ACTIONS:
        action = "save"
    form = PostForm(request.POST or None, request.FILES or None, instance=post, action=action)
    preview_html = None
    if request.method == "POST" and form.is_valid():
        if action == "preview":
            preview_html = render_markdown(form.cleaned_data["body"])
        else:
            try:
                with transaction.atomic():
                    post = form.save()
                    message = _apply_action(post, action, form.cleaned_data.get("publish_at"))
            except ValidationError as error:
                form.add_error("publish_at", error)
            else:
                messages.success(request, message)
                return redirect("post_edit", pk=post.pk)
    return render(request, "blog/desk/edit.html", {"form": form, "post": post, "preview_html": preview_html})


def _apply_action(post: Post, action: str, publish_at) -> str:
    if action == "publish":
        publish_post(post)
        return "Published."
    if action == "schedule":
        schedule_post(post, publish_at)
        return "Scheduled."
    if action == "unpublish":
        unpublish_post(post)
        return "Moved back to drafts."
    return "Saved."
