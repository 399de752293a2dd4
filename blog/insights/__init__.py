"""What was read and where from: page views counted without cookies
(pageviews), their sources named one way (referrers), the desk's figures as
tables (figures) and those tables drawn as inline SVG (charts).

May import: blog.shared, blog.discussion.
"""
