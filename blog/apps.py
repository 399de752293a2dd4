from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"

    def ready(self) -> None:
        from anymail.signals import tracking
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import m2m_changed, post_save, pre_save
        from taggit.models import Tag

        from accounts.guards import register_profile_guard
        from accounts.models import User
        from blog import pagecache  # noqa: F401  (its receivers drop the pages a saved post, user or re-stack shows)
        from blog.discussion.bans import profile_refusal
        from blog.discussion.engagement import apply_like_intent
        from blog.federation import outbox  # noqa: F401  (edits become Updates)
        from blog.federation import tasks as federation_tasks  # noqa: F401  (activities queue themselves)
        from blog.models import Post
        from blog.newsletter import providerevents
        from blog.posts import search
        from blog.posts.tagslugs import routable_tag_slug
        from blog.shared import events
        from blog.tasks import queue_webhooks  # also connects the purge of a shared cache (pages_changed)

        user_logged_in.connect(apply_like_intent, dispatch_uid="blog.apply_like_intent")
        register_profile_guard(profile_refusal)  # a banned reader keeps their name, bio and avatar
        # The stored search vector follows every change of a post, its tags or its author's name.
        post_save.connect(search.on_post_saved, sender=Post, dispatch_uid="blog.posts.search.post")
        m2m_changed.connect(search.on_tags_changed, sender=Post.tags.through, dispatch_uid="blog.posts.search.tags")
        post_save.connect(search.on_author_saved, sender=User, dispatch_uid="blog.posts.search.author")
        # Webhooks: what the process functions emit is recorded and queued (blog/shared/events.py).
        events.occurred.connect(queue_webhooks, dispatch_uid="blog.integrations.webhooks")
        post_save.connect(events.on_post_saved, sender=Post, dispatch_uid="blog.shared.events.post")
        tracking.connect(providerevents.on_tracking, dispatch_uid="blog.newsletter.providerevents")
        pre_save.connect(routable_tag_slug, sender=Tag, dispatch_uid="blog.posts.tagslugs")  # slugs every route takes
