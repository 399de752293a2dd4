from django.urls import path, re_path

from blog.federation import views

app_name = "federation"

urlpatterns = [
    path(".well-known/webfinger", views.webfinger, name="webfinger"),
    path(".well-known/nodeinfo", views.nodeinfo_links, name="nodeinfo_links"),
    path("nodeinfo/2.1", views.nodeinfo, name="nodeinfo"),
    path("ap/publication", views.publication, name="publication"),
    path("ap/users/<str:handle>", views.author, name="author"),
    path("ap/actors/<str:name>/inbox", views.receive, name="actor_inbox"),
    path("ap/actors/<str:name>/outbox", views.outbox, name="outbox"),
    path("ap/actors/<str:name>/followers", views.followers, name="followers"),
    path("ap/inbox", views.receive, name="shared_inbox"),
    path("ap/articles/<int:pk>", views.article, name="article"),
    path("ap/activities/<str:key>", views.activity, name="activity"),
    path("moderation/instances/", views.instances, name="instances"),
    path("moderation/instances/<int:pk>/unblock/", views.unblock, name="unblock"),
    path("fediverse/", views.reading, name="reading"),
    path("fediverse/follow/", views.follow, name="follow"),
    path("fediverse/following/<int:pk>/unfollow/", views.unfollow, name="unfollow"),
    re_path(r"^fediverse/posts/(?P<pk>[0-9]+)/(?P<action>like|boost|reply)/$", views.act, name="act"),
]
