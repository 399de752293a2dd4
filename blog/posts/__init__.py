"""Writing, publishing and finding posts: going live, scheduling and taking
down (publishing), revisions and autosaved edits (revisions), social cards
(previews), full-text search (search), feeds and sitemaps, and the tag and
post slugs every route accepts (tagslugs).

feeds and sitemaps are callers, as views are (Django's syndication and sitemap
classes, served by URL): tests/test_imports.py counts them among its CALLERS,
so they may import the callers' modules (blog.tasks, say); the parts they may
import are still the ones named below.

May import: blog.shared, blog.federation (a post that goes live goes to followers too).
"""
