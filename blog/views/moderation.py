from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts.requests import SignedInRequest, role_required
from blog.discussion import moderation
from blog.forms import BanForm
from blog.models import Ban, Comment, CommentRevision, ModerationLog
from blog.posts import search
from blog.tasks import queue_notices

BAN_DAYS = {"1": 1, "7": 7, "30": 30, "forever": None}
IP_BAN_DAYS = {"": None, **moderation.IP_BAN_DAYS}


moderator_required = role_required("is_moderator")


@moderator_required
@require_http_methods(["GET", "POST"])
def queue(request: SignedInRequest) -> HttpResponse:
    """Held and flagged comments, newest first; actions alone or in bulk."""
    if request.method == "POST":
        return _act(request)
    waiting = moderation.waiting().prefetch_related("flags__user", "revisions")
    query = search.parse(request.GET.get("q", ""))
    if query.text:
        waiting = search.search_comments(query, waiting)
    page = Paginator(waiting, 50).get_page(request.GET.get("page"))
    history = moderation.author_history({c.author_id for c in page})
    for comment in page:
        comment.history = history.get(comment.author_id, {"approved": 0, "rejected": 0})
    context = {
        "page": page, "actions": moderation.ACTIONS, "ban_days": BAN_DAYS, "ip_ban_days": IP_BAN_DAYS, "query": query,
    }  # fmt: skip
    return render(request, "blog/moderation/queue.html", context)


def _back(request: SignedInRequest) -> HttpResponse:
    """Back to the post page the action came from, else to the queue."""
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("blog:moderation_queue")


def _act(request: SignedInRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    comments = list(Comment.objects.filter(pk__in=ids).select_related("author"))
    if not comments:
        messages.error(request, "Select at least one comment.")
        return _back(request)
    duration, ip_duration = request.POST.get("ban_days", "7"), request.POST.get("ip_ban_days", "")
    if action == moderation.Action.BAN and (duration not in BAN_DAYS or ip_duration not in IP_BAN_DAYS):
        messages.error(request, "Choose how long the ban lasts.")
        return _back(request)
    try:
        notices = moderation.apply_action(
            request.user, comments, action, reason=request.POST.get("reason", ""), ban_days=BAN_DAYS.get(duration),
            ip_ban_days=IP_BAN_DAYS.get(ip_duration),
        )  # fmt: skip
    except moderation.CommentRefused as error:
        messages.error(request, str(error))
    else:
        queue_notices(notices)
        count = len(comments)
        label = moderation.Action(action).label
        messages.success(request, f"{label}: {count} comment{'s' if count != 1 else ''}.")
    return _back(request)


@moderator_required
def log(request: SignedInRequest) -> HttpResponse:
    entries = ModerationLog.objects.select_related("moderator", "subject", "comment__post")
    if action := request.GET.get("action"):
        entries = entries.filter(action=action)
    if moderator := request.GET.get("moderator"):
        handle = "" if moderator == "rules" else moderator.removeprefix("@")
        entries = entries.filter(moderator_handle=handle)
    query = search.parse(request.GET.get("q", ""))
    if query.text:
        entries = entries.filter(comment__in=search.search_comments(query, Comment.objects.all()).values("pk"))
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    actions = ModerationLog.objects.values_list("action", flat=True).distinct().order_by("action")
    context = {"page": page, "actions": actions, "filters": request.GET, "query": query}
    return render(request, "blog/moderation/log.html", context)


@moderator_required
def bans(request: SignedInRequest) -> HttpResponse:
    """Bans in force, newest first, and the ones that ended lately."""
    everyone = Ban.objects.select_related("user", "created_by").order_by("-created_at")
    active = everyone.active()
    ended = everyone.exclude(pk__in=active.values("pk"))[:50]
    return render(request, "blog/moderation/bans.html", {"active": active, "ended": ended})


@moderator_required
@require_http_methods(["GET", "POST"])
def ban_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    ban = get_object_or_404(Ban.objects.active(), pk=pk)
    form = BanForm(request.POST or None, initial={"reason": ban.reason, "until": ban.until})
    if request.method == "POST" and form.is_valid():
        moderation.change_ban(request.user, ban, reason=form.cleaned_data["reason"], until=form.cleaned_data["until"])
        messages.success(request, "Ban changed.")
        return redirect("blog:moderation_bans")
    return render(
        request, "blog/moderation/ban_edit.html", {"ban": ban, "form": form}, status=400 if form.errors else 200
    )


@moderator_required
@require_http_methods(["GET", "POST"])
def ban_lift(request: SignedInRequest, pk: int) -> HttpResponse:
    """GET asks "are you sure?" (with an optional reason for the log); POST lifts the ban."""
    ban = get_object_or_404(Ban.objects.active(), pk=pk)
    if request.method == "GET":
        return render(request, "blog/moderation/ban_lift.html", {"ban": ban})
    moderation.lift_ban(request.user, ban, reason=request.POST.get("reason", "").strip())
    messages.success(request, f"Lifted the {ban}.")
    return redirect("blog:moderation_bans")


@moderator_required
def revisions(request: SignedInRequest, pk: int) -> HttpResponse:
    """A comment's earlier versions, for the moderators (readers never see them)."""
    comment = get_object_or_404(Comment.objects.select_related("post", "author"), pk=pk)
    earlier = CommentRevision.objects.filter(comment=comment)
    return render(request, "blog/moderation/revisions.html", {"comment": comment, "revisions": earlier})
