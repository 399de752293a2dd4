"""The publication's settings on the desk, and what readers get from them:
the About page, the accent colour's style sheet and the favicon."""

import mimetypes
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from accounts.requests import SignedInRequest
from accounts.roles import permission_required
from blog.forms import SiteSettingsForm
from blog.shared import sitesettings

DEFAULT_FAVICON = Path(settings.BASE_DIR) / "static" / "img" / "favicon.png"


@permission_required("blog.change_site")
@require_http_methods(["GET", "POST"])
def site_settings(request: SignedInRequest) -> HttpResponse:
    row = sitesettings.load()
    form = SiteSettingsForm(request.POST or None, request.FILES or None, instance=row)
    if request.method == "POST":
        if form.is_valid():
            sitesettings.save_site(form.save(commit=False))
            messages.success(request, "Site settings saved. Every page shows them now.")
            return redirect("blog:site_settings")
        messages.error(request, "Nothing was saved: correct the fields marked below.")
    context = {"form": form, "site": sitesettings.current()}
    return render(request, "blog/desk/settings.html", context, status=400 if form.errors else 200)


@require_GET
def about(request: HttpRequest) -> HttpResponse:
    site = sitesettings.current()
    if not site.about_html:
        raise Http404("This publication has no About page.")
    return render(request, "blog/about.html", {"about_html": site.about_html})


@require_GET
@cache_control(public=True, max_age=365 * 24 * 3600, immutable=True)
def theme_css(request: HttpRequest) -> HttpResponse:
    """The accent colour as CSS variables: a file, not an inline style, so the CSP stays strict.
    Linked with ?v=<settings version>, so a change gets a new address."""
    site = sitesettings.current()
    css = ""
    if site.accent_color:
        css = (
            f":root {{ --accent: {site.accent_color}; --accent-ink: {sitesettings.ACCENT_INK}; }}\n"
            f"@media (prefers-color-scheme: dark) {{ :root {{ --accent: {site.dark_accent}; "
            f"--accent-ink: {sitesettings.DARK_ACCENT_INK}; }} }}\n"
        )
    return HttpResponse(css, content_type="text/css; charset=utf-8")


@require_GET
@cache_control(public=True, max_age=24 * 3600)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico: the configured favicon, else the default one (browsers ask for it on every site)."""
    path = sitesettings.current().favicon_path
    if path and default_storage.exists(path):
        with default_storage.open(path, "rb") as handle:
            content_type = mimetypes.guess_type(path)[0] or "image/png"
            return HttpResponse(handle.read(), content_type=content_type)
    return HttpResponse(_default_favicon(), content_type="image/png")


@cache
def _default_favicon() -> bytes:
    return DEFAULT_FAVICON.read_bytes()
