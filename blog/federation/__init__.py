"""The publication and its authors as ActivityPub actors (see docs/federation.md).

`actors` (who we are, local and remote), `signatures` (HTTP Signatures),
`network` (the only way out to another server), `outbox` (what we send,
to whom, exactly once), `inbox` (what comes back, verified and moderated)."""
