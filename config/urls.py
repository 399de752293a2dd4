from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path

from blog.api import api
from blog.newsletter.providerevents import tracking_urls
from blog.views.media import serve_media

# The admin signs in through allauth's log-in, which is rate-limited; its own
# form would let a password be guessed without limit.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

# The reader's pages first: every request is matched against the list in order,
# and no address of blog's begins like one of the other apps'.
urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("blog.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("api/anymail/", include((tracking_urls(), "anymail"))),
    path("", include("blog.federation.urls")),
    path("", include("accounts.urls")),
]
if settings.SERVE_MEDIA:
    # Uploaded covers, avatars and restored files; a front proxy can serve MEDIA_ROOT instead.
    urlpatterns += [re_path(r"^media/(?P<path>.+)$", serve_media)]
