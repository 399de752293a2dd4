"""A post's revisions on the writing desk: the list, one compared with the post
as it is now, restoring it, and dropping a live post's unsaved edits."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.requests import SignedInRequest
from blog.models import Post, PostRevision
from blog.posts import revisions
from blog.views.desk import author_required


def _post(request: SignedInRequest, pk: int) -> Post:
    return get_object_or_404(Post.objects.editable_by(request.user), pk=pk)


@author_required
def revision_list(request: SignedInRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    context = {"post": post, "revisions": revisions.saved(post), "pending": revisions.pending(post)}
    return render(request, "blog/desk/revisions.html", context)


@author_required
def revision_detail(request: SignedInRequest, pk: int, revision_pk: int) -> HttpResponse:
    post = _post(request, pk)
    revision = get_object_or_404(PostRevision.objects.select_related("saved_by"), pk=revision_pk, post=post)
    changes = revisions.compare(revisions.text_of(post), revision.text())
    return render(request, "blog/desk/revision.html", {"post": post, "revision": revision, "changes": changes})


@author_required
@require_POST
def revision_restore(request: SignedInRequest, pk: int, revision_pk: int) -> HttpResponse:
    post = _post(request, pk)
    revision = get_object_or_404(PostRevision, pk=revision_pk, post=post, kind=PostRevision.Kind.SAVED)
    revisions.restore(post, revision, request.user)
    live = " It is live now." if post.is_live else ""
    when = timezone.localtime(revision.created_at).strftime("%-d %b %Y, %H:%M %Z")
    messages.success(request, f"Restored the version of {when}.{live}")
    return redirect("blog:post_edit", pk=post.pk)


@author_required
@require_POST
def pending_discard(request: SignedInRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    if revisions.discard_pending(post):
        messages.success(request, "Unsaved changes dropped; the editor shows the post as readers see it.")
    return redirect("blog:post_edit", pk=post.pk)
