"""The publication and its authors as ActivityPub actors (see docs/federation.md).

`actors` (who we are, local and remote), `signatures` (HTTP Signatures),
`network` (the only way out to another server), `outbox` (what we send,
to whom, exactly once), `inbox` (what comes back, verified and moderated),
`reading` (a reader here following publications elsewhere), `blocks` (the
moderators' instance block list), `responses` (when a request asks for
ActivityPub JSON, and how it is answered), `middleware` (that negotiation on
a post's own URL), `models` (federation's rows, registered through
blog.models), and the callers: `views`, `urls` and `tasks`.

May import: blog.shared, blog.discussion (replies and likes from elsewhere are comments and likes here).
"""
