from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.guards import register_profile_guard
        from blog import pagecache  # noqa: F401  (connects its signal receivers)
        from blog.bans import profile_refusal
        from blog.engagement import apply_like_intent

        user_logged_in.connect(apply_like_intent, dispatch_uid="blog.apply_like_intent")
        register_profile_guard(profile_refusal)  # a banned reader keeps their name, bio and avatar
