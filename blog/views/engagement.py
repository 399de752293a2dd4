from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.csp import CSP
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.requests import SignedInRequest
from blog import pagecache
from blog.discussion import engagement
from blog.models import Post, Restack, Share
from blog.newsletter import subscriptions
from blog.posts import previews
from blog.shared.origins import same_origin_only
from blog.shared.ratelimits import client_ip, rate_limit
from blog.tasks import refresh_preview


class ShareRedirect(HttpResponseRedirect):
    allowed_schemes = ["http", "https", "mailto"]  # the e-mail "network" opens the mail app


def _visible_post(request: HttpRequest, slug: str) -> Post:
    return get_object_or_404(Post.objects.visible_to(request.user).select_related("author"), slug=slug)


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _back_to(request: HttpRequest, post: Post, anchor: str) -> HttpResponse:
    return HttpResponseRedirect(f"{post.get_absolute_url()}#{anchor}")


def _sign_in_to_like(request: HttpRequest, slug: str, position: str) -> HttpResponse:
    """Keep a visitor's click, sign in, come back with the like applied."""
    post = get_object_or_404(Post.objects.published(), slug=slug)
    engagement.remember_like_intent(request, post)
    messages.info(request, f"Sign in to like “{post.title}”. New here? Sign up, and you come back to it, liked.")
    next_url = f"{post.get_absolute_url()}#engagement-{position}"
    login = f"{reverse('account_login')}?{urlencode({'next': next_url})}"
    return JsonResponse({"login": login}, status=401) if _wants_json(request) else redirect(login)


@same_origin_only
@require_POST
@rate_limit("like", "30/m", "You're liking very fast. Please wait a minute and try again.")
def like(request: HttpRequest, slug: str) -> HttpResponse:
    position = "bottom" if request.POST.get("position") == "bottom" else "top"
    if not request.user.is_authenticated:
        return _sign_in_to_like(request, slug, position)
    wanted = {"1": True, "0": False}.get(request.POST.get("liked", ""))  # none: flip the reader's like
    try:
        found = engagement.like_post(slug, request.user, wanted, client_ip(request) or None)
    except engagement.EngagementError as error:
        if _wants_json(request):
            return JsonResponse({"error": str(error)}, status=403)
        messages.error(request, str(error))
        return HttpResponseRedirect(f"{reverse('blog:post_detail', args=[slug])}#engagement-{position}")
    if found is None:
        raise Http404("No such post.")
    post, liked, count = found
    if _wants_json(request):
        return JsonResponse({"liked": liked, "count": count})
    return _back_to(request, post, f"engagement-{position}")


@require_http_methods(["GET", "POST"])
@rate_limit("like", "30/m", "You're liking very fast. Please wait a minute and try again.")
def like_from_email(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The newsletter's like button. GET shows one button (mail scanners only
    GET, so they like nothing); POST likes, for subscribers without an account too."""
    post = get_object_or_404(Post.objects.published(), slug=slug)
    try:
        subscriber = subscriptions.subscriber_for_like_token(token, post)
    except subscriptions.TokenError as error:
        return render(request, "blog/subscriptions/link_error.html", {"error": error}, status=400)
    context: dict[str, object] = {"post": post, "liked": False}
    if request.method != "POST":
        return render(request, "blog/engagement/like_from_email.html", context)
    try:
        count = engagement.like_as_subscriber(post, subscriber, ip=client_ip(request) or None)
    except engagement.EngagementError as error:
        return render(request, "blog/engagement/like_from_email.html", {**context, "error": error}, status=403)
    context.update(liked=True, like_count=count)
    return _counted(request, render(request, "blog/engagement/like_from_email.html", context))


@same_origin_only
@require_http_methods(["GET", "POST"])
def share(request: HttpRequest, slug: str, network: str) -> HttpResponse:
    """A network link: count the share (once per visitor, network and day, and
    only from this site's own page), then go to the network's share page.

    Copy-link and the Web Share API report by POST (204) from the page's script."""
    post = _visible_post(request, slug)
    if network == Share.Network.MASTODON:
        return _share_on_mastodon(request, post)
    if network in engagement.BEACON_NETWORKS and request.method == "POST":
        engagement.record_share(request, post, network)
        return _counted(request, HttpResponse(status=204))
    if network not in engagement.SHARE_TARGETS or request.method != "GET":
        raise Http404("Unknown network.")
    if not engagement.from_this_site(request):  # another site's page pointing here counts nothing
        return ShareRedirect(engagement.share_target(network, post, engagement.shared_url(post, request.user)))
    engagement.record_share(request, post, network)
    url = engagement.shared_url(post, request.user)
    target = engagement.share_target(network, post, url)
    return _counted(request, ShareRedirect(target))


def _counted(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Signed-out pages may show counters a minute late, but not to the reader who just shared."""
    return response if request.user.is_authenticated else pagecache.saw_own_action(response)


# The form on this page sends the reader on to their own Mastodon server, a
# redirect that the site-wide `form-action 'self'` would block.
@csp_override({**settings.SECURE_CSP, "form-action": [CSP.SELF, "https:"]})  # type: ignore[dict-item]
def _share_on_mastodon(request: HttpRequest, post: Post) -> HttpResponse:
    """GET asks for the reader's server (the page's script fills in the one
    they used last); POST counts the share and goes to that server's share page.

    POST with a CSRF token, so that the site cannot be used as a link that
    redirects anywhere."""
    instance, error = request.POST.get("instance", ""), None
    if request.method == "POST":
        try:
            host = engagement.mastodon_instance(instance)
        except engagement.EngagementError as exc:
            error = str(exc)
        else:
            engagement.record_share(request, post, Share.Network.MASTODON)
            url = engagement.shared_url(post, request.user)
            return _counted(request, ShareRedirect(engagement.mastodon_target(host, post, url)))
    context = {"post": post, "instance": instance, "error": error}
    return render(request, "blog/engagement/mastodon.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("restack", "10/m", "You're re-stacking very fast. Please wait a minute.")
def restack(request: SignedInRequest, slug: str) -> HttpResponse:
    post = _visible_post(request, slug)
    current = Restack.objects.filter(post=post, user=request.user).first()
    note = request.POST.get("note", current.note if current else "")
    error = None
    if request.method == "POST":
        try:
            item = engagement.restack(request, post, note)
        except engagement.EngagementError as exc:
            error = str(exc)
        else:
            messages.success(request, "Re-stacked to your profile." if not current else "Note updated.")
            if item.note_held:
                messages.info(request, "Your note waits for a moderator; only you can see it until then.")
            return redirect(request.user)
    context = {"post": post, "current": current, "note": note, "error": error, "limit": engagement.RESTACK_NOTE_LIMIT}
    return render(request, "blog/engagement/restack.html", context, status=400 if error else 200)


@login_required
@require_POST
@rate_limit("restack", "10/m", "You're re-stacking very fast. Please wait a minute.")
def undo_restack(request: SignedInRequest, slug: str) -> HttpResponse:
    post = _visible_post(request, slug)
    if engagement.undo_restack(post, request.user):
        messages.success(request, "Re-stack removed.")
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect(post)


@require_safe
def preview_image(request: HttpRequest, slug: str) -> HttpResponse | FileResponse:
    """The stored preview. One that is missing or out of date is drawn by the
    worker; meanwhile the old one, or the site's plain card, stands in."""
    post = get_object_or_404(Post.objects.published().select_related("author"), slug=slug)
    current = previews.is_current(post)
    if not current and previews.claim_redraw(post):
        refresh_preview.delay_on_commit(post.pk)
    if not post.preview_image:
        placeholder = redirect(static("img/preview.png"))
        placeholder["Cache-Control"] = "no-cache"
        return placeholder
    etag = f'"{post.preview_key[:32]}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304)
    response = FileResponse(post.preview_image.open("rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400" if current else "public, max-age=60"
    response["ETag"] = etag
    return response
