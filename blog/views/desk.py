from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.forms import BaseForm
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST

from accounts.requests import SignedInRequest, role_required
from blog.discussion.engagement import share_counts
from blog.forms import ACTIONS, ConflictError, DraftForm, ImageUploadForm, PostForm, check_version, version_of
from blog.models import Delivery, Post, ProviderEvent, Send
from blog.models.revisions import REVISED_FIELDS
from blog.newsletter import delivery, providerevents
from blog.newsletter.subscriptions import audience_growth, post_audience
from blog.posts import revisions, search
from blog.posts.publishing import schedule_post, unpublish_post
from blog.shared.rendering import render_markdown
from blog.tasks import refresh_preview, retry_failed_deliveries

author_required = role_required("is_author")


@author_required
def desk(request: SignedInRequest) -> HttpResponse:
    # Drafts (no date) first, then by date, newest first: the order of the Date column.
    newest_first = F("published_at").desc(nulls_first=True)
    posts = (
        Post.objects.editable_by(request.user).select_related("author", "send").order_by(newest_first, "-updated_at")
    )
    query = search.parse(request.GET.get("q", ""))
    if query.text:
        posts = search.search_posts(query, posts)  # drafts included: the desk shows the author's own
    context = {"posts": posts, "audience": audience_growth(), "query": query}
    return render(request, "blog/desk/list.html", context)


@author_required
def post_send(request: SignedInRequest, pk: int) -> HttpResponse:
    """How the post's email is going; JSON for the progress bar's polling."""
    post = get_object_or_404(Post.objects.editable_by(request.user), pk=pk)
    send = Send.objects.filter(post=post).first()
    counts = delivery.send_counts(send) if send else None
    if request.GET.get("format") == "json":
        return JsonResponse({"counts": counts, "status": send.status if send else None})
    failed = send.deliveries.filter(status=Delivery.Status.FAILED).select_related("subscriber")[:200] if send else []
    show_addresses = request.user.has_perm("blog.manage_subscribers")
    failures = [_failure(item, show_addresses) for item in failed]
    reports = [_report(event, show_addresses) for event in providerevents.for_send(send)] if send else []
    context = {"post": post, "send": send, "counts": counts, "failures": failures, "provider_reports": reports}
    if send is None:
        context["audience"] = post_audience()
    return render(request, "blog/desk/send.html", context)


def _failure(item: Delivery, show_address: bool) -> dict[str, str | int]:
    """A failed delivery as the send page lists it. Subscribers' addresses are
    for those who manage subscribers; an author sees them masked, also where
    the SMTP answer quotes them."""
    email = item.subscriber.email
    address = email if show_address else delivery.masked_address(email)
    error = item.error if show_address else item.error.replace(email, address)
    return {"address": address, "error": error, "attempts": item.attempts}


def _report(event: ProviderEvent, show_address: bool) -> dict[str, str | datetime]:
    """A provider's bounce, complaint or unsubscribe, masked like a failure."""
    address = event.recipient if show_address else delivery.masked_address(event.recipient)
    return {"address": address, "provider": event.provider, "type": event.event_type,
            "reason": event.reason.replace(event.recipient, address), "at": event.received_at}  # fmt: skip


@author_required
@require_POST
def retry_send(request: SignedInRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.editable_by(request.user), pk=pk)
    send = get_object_or_404(Send, post=post)
    retry_failed_deliveries.delay_on_commit(send.pk)
    messages.success(request, "Failed deliveries are queued again.")
    return redirect("blog:post_send", pk=post.pk)


@author_required
def post_new(request: SignedInRequest) -> HttpResponse:
    return _edit(request, Post(author=request.user))


@author_required
def post_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.editable_by(request.user), pk=pk)
    return _edit(request, post)


def _edit(request: SignedInRequest, post: Post) -> HttpResponse:
    action = request.POST.get("action", "save")
    if action not in ACTIONS:
        action = "save"
    pending = revisions.pending(post)
    initial = pending.text() if pending and request.method != "POST" else None
    form = PostForm(request.POST or None, request.FILES or None, instance=post, action=action, initial=initial)
    preview_html = None
    if request.method == "POST" and form.is_valid():
        if action == "preview":
            preview_html = render_markdown(form.cleaned_data["body"])
        elif action == "publish" and post.status != Post.Status.PUBLISHED:
            post = form.save()  # kept; it goes live once the author confirms how
            revisions.updated_by_hand(post, request.user)
            return redirect("blog:post_publish", pk=post.pk)
        else:
            try:
                with transaction.atomic():
                    post = form.save()
                    message = _apply_action(post, action, form.cleaned_data)
                    revisions.updated_by_hand(post, request.user)
                    refresh_preview.delay_on_commit(post.pk)
            except ValidationError as error:
                form.add_error("publish_at", error)
            else:
                messages.success(request, message)
                return redirect("blog:post_edit", pk=post.pk)
    context: dict[str, object] = {
        "form": form, "post": post, "preview_html": preview_html, "audience": post_audience(),
        "pending": pending, "zone": timezone.get_current_timezone_name(),
    }  # fmt: skip
    if post.pk:
        context["shares_by_network"] = share_counts(post)
    return render(request, "blog/desk/edit.html", context)


def _apply_action(post: Post, action: str, data: dict[str, Any]) -> str:
    if action == "schedule":
        Post.objects.filter(pk=post.pk).update(email_subscribers=data["email_subscribers"])
        schedule_post(post, data["publish_at"])
        return "Scheduled, to be e-mailed too." if data["email_subscribers"] else "Scheduled, for the web only."
    return "Saved."


@author_required
@require_http_methods(["GET", "POST"])
def post_unpublish(request: SignedInRequest, pk: int) -> HttpResponse:
    """GET asks "are you sure?" and says what happens; POST moves the post back to drafts."""
    post = get_object_or_404(Post.objects.editable_by(request.user).exclude(status=Post.Status.DRAFT), pk=pk)
    if request.method == "GET":
        return render(request, "blog/desk/unpublish.html", {"post": post})
    unpublish_post(post)
    messages.success(request, "Moved back to drafts.")
    return redirect("blog:post_edit", pk=post.pk)


# --- The editor's helpers (JavaScript) ----------------------------------------


def _first_error(form: BaseForm) -> str:
    # ErrorList hands out its messages (some lazily translated), never ValidationErrors.
    return str(next(iter(form.errors.values()))[0])


@author_required
@require_POST
def upload_image(request: SignedInRequest) -> JsonResponse:
    """An image dropped on the editor: stored at once, answered with its Markdown."""
    form = ImageUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"error": _first_error(form)}, status=400)
    image = form.save(commit=False)
    image.uploaded_by = request.user
    image.save()
    return JsonResponse({"markdown": image.markdown, "url": image.image.url})


@author_required
@require_POST
def live_preview(request: SignedInRequest) -> JsonResponse:
    """The body as readers will see it, rendered by the site's own renderer."""
    return JsonResponse({"html": render_markdown(request.POST.get("body", ""))})


@author_required
@require_POST
def autosave_new(request: SignedInRequest) -> JsonResponse:
    return _autosave(request, Post(author=request.user))


@author_required
@require_POST
def autosave(request: SignedInRequest, pk: int) -> JsonResponse:
    post = get_object_or_404(Post.objects.editable_by(request.user), pk=pk)
    if post.status != Post.Status.DRAFT:
        return _autosave_aside(request, post)
    return _autosave(request, post)


def _autosave_aside(request: SignedInRequest, post: Post) -> JsonResponse:
    """A live or scheduled post's edits go into a revision, not onto the site."""
    try:
        check_version(post, request.POST.get("version", ""))
    except ConflictError as conflict:
        return JsonResponse({"error": str(conflict)}, status=409)
    form = DraftForm(request.POST, instance=Post(author=post.author))
    if not form.is_valid():
        return JsonResponse({"error": _first_error(form)}, status=400)
    kept = revisions.keep_pending(post, request.user, {name: form.cleaned_data[name] for name in REVISED_FIELDS})
    saved_at = _clock(kept.created_at)
    return JsonResponse({
        "version": version_of(post), "saved_at": saved_at, "slug": post.slug,
        "edit_url": reverse("blog:post_edit", args=[post.pk]),
        "autosave_url": reverse("blog:post_autosave", args=[post.pk]),
        "message": f"Changes kept at {saved_at}; " + (
            "readers see them once you press Update." if post.is_live else "they go into the post once you save it."
        ),
    })  # fmt: skip


def _clock(moment: datetime) -> str:
    """A time of day in the reader's zone, labelled with it: "14:03:09 CET"."""
    return timezone.localtime(moment).strftime("%H:%M:%S %Z")


def _autosave(request: SignedInRequest, post: Post) -> JsonResponse:
    """Keep a draft while its author types. A draft changed elsewhere since the
    editor loaded it is not overwritten: the answer is 409 and says so."""
    old_title = post.title
    with transaction.atomic():
        if post.pk:
            post = Post.objects.select_for_update().get(pk=post.pk)
        try:
            check_version(post, request.POST.get("version", ""))
        except ConflictError as conflict:
            return JsonResponse({"error": str(conflict)}, status=409)
        form = DraftForm(request.POST, instance=post)
        if not form.is_valid():
            return JsonResponse({"error": _first_error(form)}, status=400)
        post = form.save(commit=False)
        if post.pk and _slug_follows_title(post, old_title):
            post.slug = ""  # made again from the new title by Post.save
        post.save()
        revisions.checkpoint(post, request.user)
    saved_at = _clock(post.updated_at)
    return JsonResponse({
        "version": version_of(post),
        "saved_at": saved_at,
        "message": f"Draft saved at {saved_at}.",
        "edit_url": reverse("blog:post_edit", args=[post.pk]),
        "autosave_url": reverse("blog:post_autosave", args=[post.pk]),
        "slug": post.slug,
    })  # fmt: skip


def _slug_follows_title(post: Post, old_title: str) -> bool:
    """A never-published draft's slug was made from a title typed half-way;
    it follows the title until the author sets one or the post goes out."""
    old_base, new_base = slugify(old_title)[:180], slugify(post.title)[:180]
    return post.published_at is None and old_base != new_base and post.slug.startswith(old_base or "post")
