from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.forms import ProfileForm
from accounts.requests import SignedInRequest


@login_required
def edit_profile(request: SignedInRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, request.FILES or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Profile saved.")
        return redirect(request.user)
    return render(request, "accounts/edit_profile.html", {"form": form})
