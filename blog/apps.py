from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import m2m_changed, post_save, pre_save
        from taggit.models import Tag

        from accounts.guards import register_profile_guard
        from accounts.models import User
        from blog import pagecache, search  # noqa: F401  (pagecache connects its signal receivers)
        from blog.bans import profile_refusal
        from blog.engagement import apply_like_intent
        from blog.models import Post
        from blog.tagslugs import routable_tag_slug

        user_logged_in.connect(apply_like_intent, dispatch_uid="blog.apply_like_intent")
        register_profile_guard(profile_refusal)  # a banned reader keeps their name, bio and avatar
        # The stored search vector follows every change of a post, its tags or its author's name.
        post_save.connect(search.on_post_saved, sender=Post, dispatch_uid="blog.search.post")
        m2m_changed.connect(search.on_tags_changed, sender=Post.tags.through, dispatch_uid="blog.search.tags")
        post_save.connect(search.on_author_saved, sender=User, dispatch_uid="blog.search.author")
        pre_save.connect(routable_tag_slug, sender=Tag, dispatch_uid="blog.tagslugs")  # slugs every route takes
