from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.requests import SignedInRequest
from blog.discussion import comments, moderation, notifications, threads
from blog.discussion.moderation import CommentRefused as Refused
from blog.models import Comment, Flag, Post
from blog.models.comments import EDIT_WINDOW_MINUTES
from blog.shared.ratelimits import client_ip, rate_limit
from blog.tasks import queue_notices


def _post(request: HttpRequest, slug: str) -> Post:
    return get_object_or_404(Post.objects.visible_to(request.user).select_related("author"), slug=slug)


def _comment(request: HttpRequest, pk: int) -> Comment:
    visible = Comment.objects.visible_to(request.user).select_related("post__author", "author")
    comment = get_object_or_404(visible, pk=pk)
    if not comment.post.is_live and not comment.post.is_editable_by(request.user):
        raise Http404("No such comment.")
    return comment


def _refused(
    request: HttpRequest,
    post: Post,
    error: Refused,
    body: str = "",
    reply_to: str = "",
    *,
    heading: str = "Your comment was not posted",
) -> HttpResponse:
    """The refusal page; its heading names what was refused (posting, editing, deleting, ...)."""
    context = {"post": post, "error": str(error), "body": body, "reply_to": reply_to, "heading": heading,
               "form_token": moderation.form_token()}  # fmt: skip
    return render(request, "blog/comments/refused.html", context, status=429 if error.rate_limited else 400)


@login_required
@require_POST
def create(request: SignedInRequest, slug: str) -> HttpResponse:
    post = _post(request, slug)
    body, reply_id = request.POST.get("body", ""), request.POST.get("reply_to", "")
    try:
        posted = comments.post_comment(
            post, request.user, body, reply_to=comments.reply_target(reply_id), ip=client_ip(request) or None,
            form_age=moderation.seconds_since_form(request.POST.get("ts", "")),
            honeypot=request.POST.get("website", ""),
        )  # fmt: skip
    except Refused as error:
        return _refused(request, post, error, body, reply_id)
    queue_notices(posted.notices)
    comment = posted.comment
    if comment.status == Comment.Status.HELD:
        messages.info(request, "Thanks! Your comment is awaiting moderation; only you can see it for now.")
    return redirect(comment.anchor_url if comment.status in (Comment.Status.APPROVED, Comment.Status.HELD) else post)


def detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    post = _post(request, slug)
    comment = _comment(request, pk)
    if comment.post_id != post.pk:
        raise Http404("No such comment.")
    items = threads.thread(post, request.user, root_id=comment.pk)
    if not items:
        raise Http404("No such comment.")
    context = {"post": post, "comment": comment, "comments": items, "form_token": moderation.form_token()}
    return render(request, "blog/comments/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: SignedInRequest, pk: int) -> HttpResponse:
    comment = _comment(request, pk)
    if not comment.is_editable_by(request.user):
        return _refused(
            request, comment.post, Refused(comments.EDIT_REFUSED), heading="This comment can no longer be edited"
        )
    body = request.POST.get("body", comment.body)
    context = {"comment": comment, "body": body, "edit_minutes": EDIT_WINDOW_MINUTES}
    if request.method == "POST":
        try:
            comments.edit_comment(comment, request.user, body, ip=client_ip(request) or None)
        except Refused as error:
            return render(request, "blog/comments/edit.html", {**context, "error": error}, status=400)
        return redirect(comment.anchor_url)
    return render(request, "blog/comments/edit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: SignedInRequest, pk: int) -> HttpResponse:
    """GET asks "are you sure?"; POST deletes."""
    comment = _comment(request, pk)
    if comment.author_id != request.user.pk:
        return _refused(
            request,
            comment.post,
            Refused("You can only delete your own comments."),
            heading="This comment was not deleted",
        )
    if request.method == "GET":
        return render(request, "blog/comments/delete.html", {"comment": comment})
    try:
        comments.delete_own_comment(comment, request.user)
    except Refused as error:
        return _refused(request, comment.post, error, heading="This comment was not deleted")
    messages.success(request, "Your comment is deleted.")
    return redirect(f"{comment.post.get_absolute_url()}#comments")


@login_required
@require_POST
@rate_limit("comment-like", "30/m", "You're liking comments very fast. Please wait a minute and try again.")
def like(request: SignedInRequest, pk: int) -> HttpResponse:
    comment = _comment(request, pk)
    if comment.status != Comment.Status.APPROVED or comment.is_deleted:
        raise Http404("No such comment.")
    try:
        count = comments.toggle_comment_like(comment, request.user, ip=client_ip(request) or None)
    except Refused as error:
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"error": str(error)}, status=429 if error.rate_limited else 403)
        return _refused(request, comment.post, error, heading="Your like was not counted")
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"count": count})
    return redirect(comment.anchor_url)


@login_required
@require_http_methods(["GET", "POST"])
def flag(request: SignedInRequest, pk: int) -> HttpResponse:
    comment = _comment(request, pk)
    if comment.is_deleted:
        raise Http404("No such comment.")  # its author took it back: nothing left to report
    error, status = None, 200
    if request.method == "POST":
        try:
            comments.flag_comment(comment, request.user, request.POST.get("reason", ""), request.POST.get("note", ""),
                                  ip=client_ip(request) or None)  # fmt: skip
        except Refused as refusal:
            error = str(refusal)
            status = 429 if refusal.rate_limited else 400
        else:
            messages.success(request, "Thank you. The moderators will look at it.")
            return redirect(comment.anchor_url if comment.status == Comment.Status.APPROVED else comment.post)
    context = {"comment": comment, "reasons": Flag.Reason.choices, "error": error}
    return render(request, "blog/comments/flag.html", context, status=status)


@login_required
@require_POST
def pin(request: SignedInRequest, pk: int) -> HttpResponse:
    comment = _comment(request, pk)
    try:
        comments.pin_comment(comment, request.user)
    except Refused as error:
        return _refused(request, comment.post, error, heading="This comment was not pinned")
    return redirect(comment.anchor_url)


@csrf_exempt  # one-click from the mail provider: no cookie, no CSRF token
@require_http_methods(["GET", "POST"])
def notifications_off(request: HttpRequest, token: str) -> HttpResponse:
    found = notifications.user_for_off_token(token)
    if found is None:
        return render(request, "blog/subscriptions/link_error.html", {"error": "This link is not valid."}, status=400)
    user, kind = found
    if request.method == "POST":
        notifications.turn_off(user, kind)
    context = {"what": kind.label, "done": request.method == "POST"}
    return render(request, "blog/comments/notifications_off.html", context)
