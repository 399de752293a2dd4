from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.static import serve

# The admin signs in through allauth's log-in, which is rate-limited; its own
# form would let a password be guessed without limit.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("blog.federation.urls")),
    path("", include("accounts.urls")),
    path("", include("blog.urls")),
]
if settings.SERVE_MEDIA:
    # Uploaded covers and avatars; a front proxy can serve MEDIA_ROOT instead.
    urlpatterns += [re_path(r"^media/(?P<path>.+)$", serve, {"document_root": settings.MEDIA_ROOT})]
