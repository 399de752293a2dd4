"""A reader's own account, the parts that reach into the blog: one page for
every e-mail switch, downloading their data, and closing the account
(blog/transfers/readerdata.py). The profile and time zone are accounts/views.py."""

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.forms import DeleteAccountForm, NotificationsForm
from accounts.requests import SignedInRequest
from blog.forms import PreferencesForm
from blog.models import Subscriber
from blog.newsletter import subscriptions
from blog.shared.ratelimits import allow, rate_limit, too_many_requests
from blog.transfers import readerdata


@login_required
def notifications(request: SignedInRequest) -> HttpResponse:
    """The comment e-mails and, for a subscriber, the newsletter's, saved together."""
    subscriber = subscriptions.subscriber_for_user(request.user)
    active = subscriber is not None and subscriber.status == Subscriber.Status.ACTIVE
    data = request.POST if request.method == "POST" else None
    form = NotificationsForm(data, instance=request.user)
    newsletter = PreferencesForm(data, instance=subscriber, prefix="newsletter") if active else None
    if data is not None and form.is_valid() and (newsletter is None or newsletter.is_valid()):
        form.save()
        if newsletter is not None:
            newsletter.save()
        messages.success(request, "Notifications saved.")
        return redirect("blog:notifications")
    context = {
        "form": form, "newsletter": newsletter, "subscriber": subscriber,
        "manage_token": subscriptions.manage_token(subscriber) if subscriber else "",
    }  # fmt: skip
    return render(request, "accounts/notifications.html", context, status=400 if data is not None else 200)


@login_required
def your_data(request: SignedInRequest) -> HttpResponse:
    if request.GET.get("download") != "json":
        return render(request, "accounts/your_data.html")
    if not allow(request, "data-export", "10/h"):
        return too_many_requests(request, "That is ten downloads in an hour; try again later.")
    body = json.dumps(readerdata.export(request.user), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{request.user.username}-data-{stamp}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def delete_account(request: SignedInRequest) -> HttpResponse:
    refusal = readerdata.refusal(request.user)
    form = DeleteAccountForm(request.user, request.POST or None)
    context = {"form": form, "refusal": refusal, "consequences": readerdata.CONSEQUENCES,
               "subscriptions": readerdata.subscriptions_of(request.user)}  # fmt: skip
    return render(request, "accounts/delete_account.html", context)


@login_required
@require_POST
@rate_limit("delete-account", "5/h", "Too many attempts; try again in an hour.")
def delete_account_confirm(request: SignedInRequest) -> HttpResponse:
    refusal = readerdata.refusal(request.user)
    form = DeleteAccountForm(request.user, request.POST)
    if refusal is not None or not form.is_valid():
        context = {"form": form, "refusal": refusal, "consequences": readerdata.CONSEQUENCES,
                   "subscriptions": readerdata.subscriptions_of(request.user)}  # fmt: skip
        return render(request, "accounts/delete_account.html", context, status=400)
    readerdata.delete_account(request.user)
    logout(request)
    messages.success(request, "Your account is closed and your data erased. Thank you for reading.")
    return redirect("blog:home")
