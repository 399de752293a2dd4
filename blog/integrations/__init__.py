"""The owner's own tools: API keys made, hashed and revoked (apikeys), and
the events of blog.shared.events signed and POSTed to the owner's URLs
(webhooks).

May import: blog.shared.
"""
