from celery import shared_task

from blog import publishing


@shared_task
def publish_due_posts() -> list[int]:
    return publishing.publish_due_posts()
