from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import guards, timezones
from accounts.client_ip import client_ip
from accounts.forms import BrowserTimeZoneForm, ProfileForm
from accounts.models import User
from accounts.requests import SignedInRequest


@login_required
def edit_profile(request: SignedInRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, request.FILES or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        changes_public = any(name in form.changed_data for name in guards.PUBLIC_FIELDS)
        refusal = guards.profile_refusal(request.user, client_ip(request) or None) if changes_public else None
        if refusal is None:
            # Only what changed is written, so that the page caches renew only what shows it.
            if form.changed_data:
                form.save(commit=False).save(update_fields=form.changed_data)
            messages.success(request, "Profile saved.")
            return redirect(request.user)
        form.add_error(None, refusal)
    status = 400 if form.errors else 200
    context = {"form": form, "zone_abbreviation": timezones.abbreviation(request.user.time_zone)}
    return render(request, "accounts/edit_profile.html", context, status=status)


@login_required
@require_POST
def browser_time_zone(request: SignedInRequest) -> JsonResponse:
    """The browser's zone, sent by static/js/account-timezone.js on the first
    visit: taken only while the account has none, never over the reader's choice."""
    form = BrowserTimeZoneForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": "Unknown time zone."}, status=400)
    zone = form.cleaned_data["time_zone"]
    taken = User.objects.filter(pk=request.user.pk, time_zone="").update(time_zone=zone)
    return JsonResponse({"time_zone": zone if taken else request.user.time_zone, "taken": bool(taken)})
