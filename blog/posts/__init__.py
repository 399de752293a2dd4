"""Writing, publishing and finding posts: going live, scheduling and taking
down (publishing), revisions and autosaved edits (revisions), social cards
(previews), full-text search (search), feeds and sitemaps, and the tag and
post slugs every route accepts (tagslugs).

May import: blog.shared, blog.federation (a post that goes live goes to followers too).
"""
