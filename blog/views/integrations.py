"""The desk's integrations: API keys (made, shown once, revoked) and webhooks
(registered, tested, their delivery log, switched back on). For those with
blog.manage_integrations (superusers today; a role may be given it)."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.requests import SignedInRequest
from blog.forms import ApiKeyForm, WebhookForm
from blog.integrations import apikeys, webhooks
from blog.models import ApiKey, Webhook
from blog.tasks import deliver_webhook

View = Callable[..., HttpResponse]


def integrations_required(view: View) -> View:
    return login_required(permission_required("blog.manage_integrations", raise_exception=True)(view))


@integrations_required
@require_http_methods(["GET", "POST"])
def api_keys(request: SignedInRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST if request.method == "POST" else None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        new_key = apikeys.create_key(request.user, data["name"], data["scopes"], trusted_import=data["trusted_import"])
        form = ApiKeyForm()
    keys = ApiKey.objects.select_related("created_by")
    context = {"form": form, "keys": keys, "new_key": new_key}
    return render(request, "blog/integrations/keys.html", context, status=400 if form.errors else 200)


@integrations_required
@require_POST
def revoke_api_key(request: SignedInRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk)
    apikeys.revoke_key(key)
    messages.success(request, f"The key “{key.name}” is revoked; calls with it now get 401.")
    return redirect("blog:api_keys")


@integrations_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: SignedInRequest) -> HttpResponse:
    form = WebhookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            hook = webhooks.create_hook(request.user, form.cleaned_data["url"], form.cleaned_data["events"])
        except ValidationError as error:
            form.add_error("url", error)
        else:
            messages.success(request, "Webhook added. Its signing secret is below.")
            return redirect("blog:webhook_detail", pk=hook.pk)
    context = {"form": form, "hooks": Webhook.objects.all()}
    return render(request, "blog/integrations/webhooks.html", context, status=400 if form.errors else 200)


@integrations_required
def webhook_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk)
    deliveries = hook.deliveries.all()[:100]
    return render(request, "blog/integrations/webhook.html", {"hook": hook, "deliveries": deliveries})


@integrations_required
@require_POST
def webhook_test(request: SignedInRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk)
    deliver_webhook.delay_on_commit(webhooks.send_test(hook))
    messages.success(request, "A test event is on its way; its answer appears in the log below.")
    return redirect("blog:webhook_detail", pk=hook.pk)


@integrations_required
@require_POST
def webhook_enable(request: SignedInRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk)
    webhooks.enable_hook(hook)
    messages.success(request, "Webhook switched on again.")
    return redirect("blog:webhook_detail", pk=hook.pk)


@integrations_required
@require_POST
def webhook_delete(request: SignedInRequest, pk: int) -> HttpResponse:
    webhooks.delete_hook(get_object_or_404(Webhook, pk=pk))
    messages.success(request, "Webhook deleted.")
    return redirect("blog:webhooks")
