"""Members on the desk: find a subscriber, open one, note, label, unsubscribe or erase (blog/newsletter/members.py)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.requests import SignedInRequest
from accounts.roles import permission_required
from blog.forms import MemberFilterForm, MemberNoteForm
from blog.models import Subscriber
from blog.newsletter import members as members_

MANAGE = "blog.manage_subscribers"


def _member(pk: int) -> Subscriber:
    return get_object_or_404(Subscriber.objects.filter(erased_at__isnull=True), pk=pk)


@permission_required(MANAGE)
@require_GET
def member_list(request: SignedInRequest) -> HttpResponse:
    form = MemberFilterForm(request.GET)
    wanted = members_.MemberFilter()
    if form.is_valid():
        data = form.cleaned_data
        wanted = members_.MemberFilter(
            address=data["q"].strip(), status=data["status"], cadence=data["cadence"],
            source=data["source"].strip(), label=data["label"].strip(),
            joined_from=data["joined_from"], joined_to=data["joined_to"],
        )  # fmt: skip
    found = members_.page(wanted, request.GET.get("after", ""))
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "form": form,
        "page": found,
        "filtered": wanted != members_.MemberFilter(),
        "query": query.urlencode(),
        "first_page": "after" in request.GET,
    }
    return render(request, "blog/desk/members.html", context, status=400 if form.errors else 200)


@permission_required(MANAGE)
@require_GET
def member_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    member = _member(pk)
    return _detail(request, member, MemberNoteForm(instance=member))


def _detail(request: SignedInRequest, member: Subscriber, form: MemberNoteForm, status: int = 200) -> HttpResponse:
    context = {"member": member, "form": form, **members_.history(member)}
    return render(request, "blog/desk/member.html", context, status=status)


@permission_required(MANAGE)
@require_POST
def member_note(request: SignedInRequest, pk: int) -> HttpResponse:
    member = _member(pk)
    form = MemberNoteForm(request.POST, instance=member)
    if not form.is_valid():
        return _detail(request, member, form, status=400)
    members_.note_member(member, note=form.cleaned_data["note"], label=form.cleaned_data["label"])
    messages.success(request, "Note and label saved.")
    return redirect("blog:member_detail", pk=member.pk)


@permission_required(MANAGE)
@require_POST
def member_unsubscribe(request: SignedInRequest, pk: int) -> HttpResponse:
    member = _member(pk)
    members_.unsubscribe_member(member)
    messages.success(request, f"{member.email} is unsubscribed and gets no more e-mail.")
    return redirect("blog:member_detail", pk=member.pk)


@permission_required(MANAGE)
@require_http_methods(["GET", "POST"])
def member_erase(request: SignedInRequest, pk: int) -> HttpResponse:
    """GET asks first; POST erases."""
    member = _member(pk)
    if request.method == "POST":
        members_.erase_member(member)
        # Not the address: the message travels in a cookie, and the point was to forget it.
        messages.success(request, "The member is erased; only anonymous counts remain.")
        return redirect("blog:member_list")
    return render(request, "blog/desk/member_erase.html", {"member": member})
