from typing import Any

from django.core.management.base import BaseCommand

from blog.posts.search import index_posts


class Command(BaseCommand):
    help = "Rebuild every post's stored search vector (after changing SEARCH_LANGUAGE). PostgreSQL only."

    def handle(self, *args: Any, **options: Any) -> None:
        count = index_posts()
        self.stdout.write(f"Indexed {count} posts." if count else "Nothing to index (SQLite scans, or no posts).")
