from celery import shared_task

from blog import publishing
from blog.models import Post
from blog.previews import ensure_preview


@shared_task
def publish_due_posts() -> list[int]:
    return publishing.publish_due_posts()


@shared_task
def refresh_preview(post_id: int) -> None:
    """Redraw a published post's social preview if its title, author or cover changed."""
    post = Post.objects.published().select_related("author").filter(pk=post_id).first()
    if post:
        ensure_preview(post)
