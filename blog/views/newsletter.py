"""The writing desk's newsletter steps: confirm how a post goes out, e-mail an
older web-only post, a test e-mail to the author, and the welcome e-mail."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.requests import SignedInRequest
from blog.forms import PublishForm, WelcomeForm
from blog.models import NewsletterSettings, Post, Send
from blog.newsletter.subscriptions import post_audience
from blog.posts.publishing import publish_post
from blog.shared.ratelimits import rate_limit
from blog.tasks import queue_send, refresh_preview, send_test_email
from blog.views.desk import author_required


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@author_required
@require_http_methods(["GET", "POST"])
def publish(request: SignedInRequest, pk: int) -> HttpResponse:
    """GET asks how the post goes out and says to how many subscribers; POST publishes."""
    post = get_object_or_404(Post.objects.editable_by(request.user), pk=pk)
    if post.is_live:
        messages.info(request, "This post is published already.")
        return redirect("blog:post_edit", pk=post.pk)
    audience = post_audience()
    form = PublishForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        emailed = form.cleaned_data["delivery"] == PublishForm.EMAIL
        Post.objects.filter(pk=post.pk).update(email_subscribers=emailed)
        if publish_post(post):
            refresh_preview.delay_on_commit(post.pk)
            if emailed:
                queue_send([post.pk])
        if emailed:
            messages.success(request, f"Published, and on its way to {_plural(audience['each_post'], 'subscriber')}.")
        else:
            messages.success(request, "Published on the web only; no e-mail was sent.")
        return redirect("blog:post_edit", pk=post.pk)
    context = {"post": post, "form": form, "audience": audience}
    return render(request, "blog/desk/publish.html", context, status=400 if form.errors else 200)


@author_required
@require_POST
def email_post(request: SignedInRequest, pk: int) -> HttpResponse:
    """E-mail a post that went out on the web only (the send page asks first)."""
    post = get_object_or_404(Post.objects.editable_by(request.user).published(), pk=pk)
    if Send.objects.filter(post=post).exists():
        messages.info(request, "This post has been e-mailed already.")
        return redirect("blog:post_send", pk=post.pk)
    Post.objects.filter(pk=post.pk).update(email_subscribers=True)
    queue_send([post.pk])
    count = post_audience()["each_post"]
    messages.success(request, f"On its way to {_plural(count, 'subscriber')}.")
    return redirect("blog:post_send", pk=post.pk)


@author_required
@require_POST
@rate_limit("test-email", "5/m", "That is a lot of test e-mails. Please wait a minute.")
def test_email(request: SignedInRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.editable_by(request.user), pk=pk)
    send_test_email.delay_on_commit(post.pk, request.user.pk)
    messages.success(request, f"A test e-mail of this post is on its way to {request.user.email}.")
    return redirect("blog:post_edit", pk=post.pk)


@author_required
@permission_required("blog.manage_subscribers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def welcome(request: SignedInRequest) -> HttpResponse:
    """The welcome e-mail new subscribers get once they confirm; off unless turned on.
    It speaks for the whole publication, so it is for those who manage subscribers."""
    form = WelcomeForm(request.POST if request.method == "POST" else None, instance=NewsletterSettings.load())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(
            request, "Welcome e-mail saved." if form.instance.welcome_enabled else "Welcome e-mail is off."
        )
        return redirect("blog:welcome_email")
    return render(request, "blog/desk/welcome.html", {"form": form}, status=400 if form.errors else 200)
