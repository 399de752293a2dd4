"""ActivityPub and its discovery endpoints, and the moderators' instance block list.

Documents are served only for what is public: live posts, our actors, and
the activities we sent about them. Followers are counted, never listed."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.requests import SignedInRequest, role_required
from blog.federation import actors, blocks, inbox
from blog.federation import reading as reading_
from blog.federation.actors import CONTEXT, LocalActor
from blog.federation.responses import activity_response, article_response, wants_activity_json
from blog.federation.tasks import queue_notices
from blog.models import BlockedInstance, Following, OutboundActivity, Post, ReceivedArticle
from blog.shared import ratelimits
from blog.shared.ratelimits import rate_limit
from blog.shared.site import absolute

OUTBOX_PAGE = 20
moderator_required = role_required("is_moderator")


def _actor(name: str) -> LocalActor:
    actor = actors.by_name(name)
    if actor is None:
        raise Http404("No such actor.")
    return actor


@require_GET
def webfinger(request: HttpRequest) -> JsonResponse:
    resource = request.GET.get("resource", "")
    if not resource:
        return JsonResponse({"error": "Give a resource, e.g. acct:name@host."}, status=400)
    document = actors.webfinger(resource)
    if document is None:
        return JsonResponse({"error": "No such account here."}, status=404)
    response = JsonResponse(document, content_type="application/jrd+json")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def nodeinfo_links(request: HttpRequest) -> JsonResponse:
    href = absolute(reverse("federation:nodeinfo"))
    return JsonResponse({"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": href}]})


@require_GET
def nodeinfo(request: HttpRequest) -> JsonResponse:
    profile = 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    return JsonResponse(actors.nodeinfo(), content_type=profile)


def _actor_page(request: HttpRequest, actor: LocalActor) -> HttpResponse:
    if not wants_activity_json(request.headers.get("Accept", "")):
        response = redirect(actor.profile_url)
        patch_vary_headers(response, ["Accept"])
        return response
    return activity_response(actors.actor_document(actor))


@require_GET
def publication(request: HttpRequest) -> HttpResponse:
    return _actor_page(request, actors.publication())


@require_GET
def author(request: HttpRequest, handle: str) -> HttpResponse:
    return _actor_page(request, _actor(handle))


@require_GET
def outbox(request: HttpRequest, name: str) -> JsonResponse:
    """The latest posts as Create activities: enough for a server to show a new follower what came before."""
    actor = _actor(name)
    posts = Post.objects.published().select_related("author").prefetch_related("tags")  # type: ignore[misc]
    if actor.user is not None:
        posts = posts.filter(author=actor.user)
    items = [
        {"id": f"{actors.article_id(post)}#create", "type": "Create", "actor": actor.id,
         "published": post.published_at.isoformat() if post.published_at else None,
         "to": [actors.PUBLIC], "object": actors.article(post)}
        for post in posts.order_by("-published_at")[:OUTBOX_PAGE]
    ]  # fmt: skip
    document = {
        "@context": CONTEXT, "id": absolute(request.path), "type": "OrderedCollection",
        "totalItems": posts.count(), "orderedItems": items,
    }  # fmt: skip
    return activity_response(document)


@require_GET
def followers(request: HttpRequest, name: str) -> JsonResponse:
    actor = _actor(name)
    document = {
        "@context": CONTEXT, "id": absolute(request.path), "type": "OrderedCollection",
        "totalItems": actors.follower_count(actor),
    }  # fmt: skip
    return activity_response(document)


@require_GET
def article(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.published().select_related("author"), pk=pk)
    if not wants_activity_json(request.headers.get("Accept", "")):
        response = redirect(post)
        patch_vary_headers(response, ["Accept"])
        return response
    return article_response(post)


@require_GET
def activity(request: HttpRequest, key: str) -> JsonResponse:
    found = get_object_or_404(OutboundActivity, uri=absolute(request.path), kind__in=["Create", "Update", "Delete"])
    if found.kind != "Delete" and (found.post is None or not found.post.is_live):
        raise Http404("No such activity.")
    return activity_response(found.payload)


@csrf_exempt  # signed by a server, not posted by a browser with our cookies
@require_POST
def receive(request: HttpRequest, name: str | None = None) -> HttpResponse:
    """A shared or an actor's inbox: verified, rate-limited per instance, size-limited, handled at once."""
    if name is not None:
        _actor(name)
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.FEDERATION_MAX_BODY_BYTES:
        return JsonResponse({"error": "The activity is too large."}, status=413)
    body = request.body
    if len(body) > settings.FEDERATION_MAX_BODY_BYTES:
        return JsonResponse({"error": "The activity is too large."}, status=413)
    headers = {key.lower(): value for key, value in request.headers.items()}
    headers.setdefault("host", request.get_host())
    try:
        domain = actors.domain_of(inbox.signature_of(headers).key_id)
        if settings.RATELIMIT_ENABLED and not ratelimits.hit(f"ap-inbox:{domain}", settings.FEDERATION_INBOX_RATE):
            return JsonResponse({"error": "Too many activities from your server; try again later."}, status=429)
        remote = inbox.verify("POST", request.get_full_path(), headers, body)
        outcome = inbox.handle(inbox.parse(body), remote)
    except inbox.Rejected as error:
        return JsonResponse({"error": str(error)}, status=error.status)
    queue_notices(outcome.notices)
    return JsonResponse({"result": outcome.handled}, status=202)


# --- The moderators' block list -------------------------------------------------------


@moderator_required
@require_http_methods(["GET", "POST"])
def instances(request: SignedInRequest) -> HttpResponse:
    """Blocked servers, and a form to block another."""
    status = 200
    if request.method == "POST":
        try:
            block = blocks.block_instance(request.POST.get("domain", ""), request.POST.get("reason", ""), request.user)
        except blocks.BlockRefused as error:
            messages.error(request, str(error))
            status = 400
        else:
            messages.success(request, f"{block.domain} is blocked.")
            return redirect("federation:instances")
    page = Paginator(BlockedInstance.objects.select_related("created_by"), 100).get_page(request.GET.get("page"))
    return render(request, "blog/moderation/instances.html", {"page": page}, status=status)


@moderator_required
@require_POST
def unblock(request: SignedInRequest, pk: int) -> HttpResponse:
    block = get_object_or_404(BlockedInstance, pk=pk)
    blocks.unblock_instance(block)
    messages.success(request, f"{block.domain} is no longer blocked.")
    return redirect("federation:instances")


# --- A reader here following publications elsewhere ----------------------------------


@login_required
@require_GET
def reading(request: SignedInRequest) -> HttpResponse:
    context = {"followings": reading_.followings(request.user), "articles": reading_.articles_for(request.user)}
    return render(request, "blog/federation/reading.html", context)


def _refused(request: SignedInRequest, error: Exception) -> HttpResponse:
    messages.error(request, str(error))
    context = {"followings": reading_.followings(request.user), "articles": reading_.articles_for(request.user)}
    return render(request, "blog/federation/reading.html", context, status=400)


@login_required
@require_POST
@rate_limit("fediverse-follow", "10/m", "That is a lot of follows. Please wait a minute.")
def follow(request: SignedInRequest) -> HttpResponse:
    try:
        following = reading_.follow(request.user, request.POST.get("address", ""))
    except reading_.ReadingRefused as error:
        return _refused(request, error)
    messages.success(request, f"Following {following.remote.handle}; new posts will appear here.")
    return redirect("federation:reading")


@login_required
@require_POST
def unfollow(request: SignedInRequest, pk: int) -> HttpResponse:
    following = get_object_or_404(Following, pk=pk, user=request.user)
    reading_.unfollow(request.user, following)
    messages.success(request, f"You no longer follow {following.remote.handle}.")
    return redirect("federation:reading")


def _article(request: SignedInRequest, pk: int) -> ReceivedArticle:
    """Only an article from an account this reader follows."""
    return get_object_or_404(ReceivedArticle, pk=pk, remote__followed_by__user=request.user)


@login_required
@require_POST
@rate_limit("fediverse-act", "30/m", "You're acting very fast. Please wait a minute.")
def act(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Like, boost or reply to a post from elsewhere, as this reader."""
    article = _article(request, pk)
    try:
        if action == "like":
            reading_.like(request.user, article)
        elif action == "boost":
            reading_.boost(request.user, article)
        else:
            reading_.reply(request.user, article, request.POST.get("body", ""))
    except reading_.ReadingRefused as error:
        return _refused(request, error)
    done = {"like": "Liked", "boost": "Boosted", "reply": "Replied to"}[action]
    messages.success(request, f"{done} “{article.name or 'the post'}” on {article.remote.domain}.")
    return redirect("federation:reading")
