from django.contrib.sitemaps.views import sitemap
from django.urls import path

from blog import views
from blog.feeds import LatestPostsAtomFeed, LatestPostsFeed
from blog.sitemaps import SITEMAPS

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<slug:slug>/", views.post_detail, name="post_detail"),
    path("t/<slug:slug>/", views.tag_posts, name="tag"),
    path("@<str:handle>/", views.profile, name="profile"),
    path("archive/", views.archive, name="archive"),
    path("feed/", LatestPostsFeed(), name="feed_rss"),
    path("feed/atom/", LatestPostsAtomFeed(), name="feed_atom"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("healthz", views.healthz, name="healthz"),
    path("write/", views.desk, name="desk"),
    path("write/new/", views.post_new, name="post_new"),
    path("write/<int:pk>/", views.post_edit, name="post_edit"),
]
