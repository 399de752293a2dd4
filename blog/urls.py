from django.contrib.sitemaps.views import sitemap
from django.urls import path

from blog.feeds import AuthorFeed, LatestPostsAtomFeed, LatestPostsFeed, TagFeed
from blog.sitemaps import SITEMAPS
from blog.views import comments, desk, engagement, moderation, posts, subscriptions

app_name = "blog"

urlpatterns = [
    path("", posts.home, name="home"),
    path("p/<slug:slug>/", posts.post_detail, name="post_detail"),
    path("p/<slug:slug>/like/", engagement.like, name="like"),
    path("p/<slug:slug>/share/<str:network>/", engagement.share, name="share"),
    path("p/<slug:slug>/restack/", engagement.restack, name="restack"),
    path("p/<slug:slug>/restack/undo/", engagement.undo_restack, name="undo_restack"),
    path("p/<slug:slug>/preview.png", engagement.preview_image, name="preview_image"),
    path("subscribe/", subscriptions.subscribe, name="subscribe"),
    path("subscribe/check-your-email/", subscriptions.subscribe_done, name="subscribe_done"),
    path("subscribe/confirm/<str:token>/", subscriptions.confirm, name="subscription_confirm"),
    path("subscription/<str:token>/", subscriptions.preferences, name="subscription_preferences"),
    path("unsubscribe/<str:token>/", subscriptions.unsubscribe, name="unsubscribe"),
    path("settings/subscription/", subscriptions.account_subscription, name="account_subscription"),
    path("write/subscribers/", subscriptions.manage_subscribers, name="manage_subscribers"),
    path("write/subscribers/export.csv", subscriptions.export_subscribers, name="export_subscribers"),
    path("p/<slug:slug>/comments/new/", comments.create, name="comment_create"),
    path("p/<slug:slug>/comments/<int:pk>/", comments.detail, name="comment_detail"),
    path("comments/<int:pk>/edit/", comments.edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", comments.delete, name="comment_delete"),
    path("comments/<int:pk>/like/", comments.like, name="comment_like"),
    path("comments/<int:pk>/flag/", comments.flag, name="comment_flag"),
    path("comments/<int:pk>/pin/", comments.pin, name="comment_pin"),
    path("notifications/off/<str:token>/", comments.notifications_off, name="notifications_off"),
    path("moderation/", moderation.queue, name="moderation_queue"),
    path("moderation/log/", moderation.log, name="moderation_log"),
    path("tags/", posts.tag_index, name="tag_index"),
    path("t/<slug:slug>/", posts.tag_posts, name="tag"),
    path("t/<slug:slug>/feed/", TagFeed(), name="tag_feed"),
    path("@<str:handle>/", posts.profile, name="profile"),
    path("@<str:handle>/feed/", AuthorFeed(), name="author_feed"),
    path("archive/", posts.archive, name="archive"),
    path("feed/", LatestPostsFeed(), name="feed_rss"),
    path("feed/atom/", LatestPostsAtomFeed(), name="feed_atom"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", posts.robots_txt, name="robots_txt"),
    path("healthz", posts.healthz, name="healthz"),
    path("write/", desk.desk, name="desk"),
    path("write/new/", desk.post_new, name="post_new"),
    path("write/new/autosave/", desk.autosave_new, name="post_autosave_new"),
    path("write/images/", desk.upload_image, name="upload_image"),
    path("write/preview/", desk.live_preview, name="live_preview"),
    path("write/<int:pk>/", desk.post_edit, name="post_edit"),
    path("write/<int:pk>/autosave/", desk.autosave, name="post_autosave"),
    path("write/<int:pk>/send/", desk.post_send, name="post_send"),
    path("write/<int:pk>/send/retry/", desk.retry_send, name="retry_send"),
]
