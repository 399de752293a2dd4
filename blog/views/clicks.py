from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from blog.insights import pageviews
from blog.models import Post
from blog.newsletter import clicks


@require_GET
@never_cache
def click(request: HttpRequest, token: str) -> HttpResponse:
    """A newsletter link: count the click, then send the reader where the link said."""
    try:
        post_id, url = clicks.read_click_token(token)
    except clicks.ClickError as error:
        return render(request, "blog/subscriptions/link_error.html", {"error": error}, status=400)
    if not Post.objects.filter(pk=post_id).exists():
        return render(request, "blog/subscriptions/link_error.html", {"error": "This link is not valid."}, status=400)
    if not clicks.went_out(post_id):
        inactive = "This link is not active: its post is not published, or was never sent to subscribers."
        return render(request, "blog/subscriptions/link_error.html", {"error": inactive}, status=404)
    # Mail scanners and link previewers fetch links too; only browsers count, once a day each.
    counting = settings.NEWSLETTER_CLICK_COUNTING and pageviews.is_browser(request)
    if counting and clicks.first_click_today(request, post_id, url):
        clicks.record_click(post_id, url)
    return HttpResponseRedirect(clicks.destination(url))
