from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from blog import pagecache  # noqa: F401  (connects its signal receivers)
        from blog.engagement import apply_like_intent

        user_logged_in.connect(apply_like_intent, dispatch_uid="blog.apply_like_intent")
