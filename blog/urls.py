from django.contrib.sitemaps.views import sitemap
from django.urls import path

from blog.feeds import LatestPostsAtomFeed, LatestPostsFeed
from blog.sitemaps import SITEMAPS
from blog.views import desk, posts

urlpatterns = [
    path("", posts.home, name="home"),
    path("p/<slug:slug>/", posts.post_detail, name="post_detail"),
    path("t/<slug:slug>/", posts.tag_posts, name="tag"),
    path("@<str:handle>/", posts.profile, name="profile"),
    path("archive/", posts.archive, name="archive"),
    path("feed/", LatestPostsFeed(), name="feed_rss"),
    path("feed/atom/", LatestPostsAtomFeed(), name="feed_atom"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", posts.robots_txt, name="robots_txt"),
    path("healthz", posts.healthz, name="healthz"),
    path("write/", desk.desk, name="desk"),
    path("write/new/", desk.post_new, name="post_new"),
    path("write/<int:pk>/", desk.post_edit, name="post_edit"),
]
