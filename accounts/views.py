from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts import guards
from accounts.client_ip import client_ip
from accounts.forms import ProfileForm
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
    return render(request, "accounts/edit_profile.html", {"form": form}, status=status)
