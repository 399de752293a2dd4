from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.referrals import referrer_for
from accounts.requests import SignedInRequest
from accounts.roles import permission_required
from blog.discussion import bans
from blog.forms import ImportForm, PreferencesForm, SubscribeForm
from blog.models import Subscriber
from blog.newsletter import subscriptions
from blog.shared.origins import same_origin_only
from blog.shared.ratelimits import client_ip, rate_limit
from blog.tasks import send_confirmation, send_welcome
from blog.views.desk import author_required


@same_origin_only
@require_POST
@rate_limit("subscribe", "5/m", "Too many subscription attempts from here. Please wait a minute.")
def subscribe(request: HttpRequest) -> HttpResponse:
    form = SubscribeForm(request.POST)
    user = request.user if isinstance(request.user, User) else None
    one_click_email = subscriptions.verified_email(user) if user and not request.POST.get("email") else None
    if one_click_email:
        form = SubscribeForm({**request.POST.dict(), "email": one_click_email})
    if not form.is_valid():
        return render(request, "blog/subscriptions/subscribe_error.html", {"form": form}, status=400)
    email, honeypot = form.cleaned_data["email"], form.cleaned_data["website"]
    ip = client_ip(request) or None
    if user is not None and (refusal := bans.refusal(user, ip)):
        messages.error(request, refusal)  # their own ban (or their network's): theirs to read
        return redirect("blog:home")
    if bans.refusal(AnonymousUser(), ip, email=email):
        return redirect("blog:subscribe_done")  # the usual answer: the form tells nobody about an address
    pending = subscriptions.request_subscription(
        email,
        source=subscriptions.known_source(form.cleaned_data["source"]),
        ip=ip,
        referred_by=referrer_for(request),
        verified_user=user if one_click_email and one_click_email.lower() == email.lower() else None,
        honeypot=honeypot,
    )
    if pending is not None:
        send_confirmation.delay_on_commit(pending.pk)
    if one_click_email and request.user.is_authenticated and not honeypot:
        if (subscriber := subscriptions.subscriber_for_user(request.user)) is not None:
            send_welcome.delay_on_commit(subscriber.pk)  # sent once at most, if the desk turned it on
        messages.success(request, f"Subscribed: new posts will go to {one_click_email}.")
        next_url = request.POST.get("next", "")
        return redirect(next_url if url_has_allowed_host_and_scheme(next_url, {request.get_host()}) else "blog:home")
    return redirect("blog:subscribe_done")


def subscribe_done(request: HttpRequest) -> HttpResponse:
    return render(request, "blog/subscriptions/check_your_email.html")


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links); POST confirms."""
    try:
        subscriber = subscriptions.subscriber_for_confirm_token(token)
    except subscriptions.TokenError as error:
        return render(request, "blog/subscriptions/link_error.html", {"error": error}, status=400)
    was_active = subscriber.status == Subscriber.Status.ACTIVE
    if request.method == "POST" and subscriptions.confirm(subscriber, ip=client_ip(request) or None):
        if not was_active:
            send_welcome.delay_on_commit(subscriber.pk)  # sent once at most, if the desk turned it on
        token = subscriptions.manage_token(subscriber)
        return render(request, "blog/subscriptions/confirmed.html", {"subscriber": subscriber, "token": token})
    return render(request, "blog/subscriptions/confirm.html", {"subscriber": subscriber})


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = subscriptions.subscriber_for_manage_token(token)
    except subscriptions.TokenError as error:
        return render(request, "blog/subscriptions/link_error.html", {"error": error}, status=400)
    return _preferences(request, subscriber, token)


@login_required
@require_http_methods(["GET", "POST"])
def account_subscription(request: SignedInRequest) -> HttpResponse:
    subscriber = subscriptions.subscriber_for_user(request.user)
    if subscriber is None:
        return render(request, "blog/subscriptions/none.html")
    return _preferences(request, subscriber, subscriptions.manage_token(subscriber))


def _preferences(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    form = PreferencesForm(request.POST or None, instance=subscriber)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your email preferences are saved.")
        return redirect(request.path)
    return render(
        request, "blog/subscriptions/preferences.html", {"form": form, "subscriber": subscriber, "token": token}
    )


@csrf_exempt  # RFC 8058: mail providers POST here with no cookie and no CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = subscriptions.subscriber_for_manage_token(token)
    except subscriptions.TokenError as error:
        return render(request, "blog/subscriptions/link_error.html", {"error": error}, status=400)
    if request.method == "POST":
        subscriptions.unsubscribe(subscriber)
        # 200, never a redirect, and the same answer when repeated.
        return render(request, "blog/subscriptions/unsubscribed.html", {"subscriber": subscriber, "token": token})
    if subscriber.status == Subscriber.Status.UNSUBSCRIBED:
        # Asking again to unsubscribe would be no use: offer the way back instead.
        return render(request, "blog/subscriptions/unsubscribed.html", {"subscriber": subscriber, "token": token})
    return render(request, "blog/subscriptions/unsubscribe_confirm.html", {"subscriber": subscriber, "token": token})


@require_POST
def resubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The unsubscribed page's "Subscribe again", from the reader's own e-mail link."""
    try:
        subscriber = subscriptions.subscriber_for_manage_token(token)
    except subscriptions.TokenError as error:
        return render(request, "blog/subscriptions/link_error.html", {"error": error}, status=400)
    if not subscriptions.resubscribe(subscriber, ip=client_ip(request) or None):
        refusal = "This address can't be subscribed again from here. Use the subscribe form on any page."
        return render(request, "blog/subscriptions/link_error.html", {"error": refusal}, status=400)
    messages.success(request, f"Welcome back. {subscriber.email} is subscribed again.")
    return redirect("blog:subscription_preferences", token=token)


@permission_required("blog.manage_subscribers")
@require_http_methods(["GET", "POST"])
def manage_subscribers(request: SignedInRequest) -> HttpResponse:
    """Import from CSV (with a dry run) and export; their own permission, since it is everyone's address."""
    return _import_page(request, Subscriber.objects.all(), source="import", own=False)


@author_required
@require_http_methods(["GET", "POST"])
def own_subscribers(request: SignedInRequest) -> HttpResponse:
    """An author's own subscribers (from their posts' and profile's boxes, or imported by them)."""
    mine = subscriptions.own_subscribers(request.user)
    return _import_page(request, mine, source=subscriptions.import_source(request.user), own=True)


def _import_page(
    request: SignedInRequest, subscribers: QuerySet[Subscriber], *, source: str, own: bool
) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        text, dry_run = form.cleaned_data["text"], form.cleaned_data["dry_run"]
        report = subscriptions.import_subscribers(text, dry_run=dry_run, source=source)
    context = {
        "form": form,
        "report": report,
        "totals": subscriptions.status_totals(subscribers),
        "dry_run": form.data.get("dry_run"),
        "own": own,
    }
    return render(request, "blog/subscriptions/manage.html", context)


@permission_required("blog.manage_subscribers")
def export_subscribers(request: SignedInRequest) -> HttpResponse:
    response = HttpResponse(subscriptions.export_subscribers(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="subscribers.csv"'
    return response


@author_required
def export_own_subscribers(request: SignedInRequest) -> HttpResponse:
    mine = subscriptions.own_subscribers(request.user)
    response = HttpResponse(subscriptions.export_subscribers(mine), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-subscribers.csv"'
    return response
