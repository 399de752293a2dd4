"""Federation rows: our actors' keys, remote actors and their followings,
what we send (activities and one delivery per inbox) and what we received.

Registered through blog.models, so their tables belong to the blog app."""

from django.conf import settings
from django.db import models

from blog.models.comments import Comment
from blog.models.posts import Post


class ActorKey(models.Model):
    """The RSA key pair of one local actor: "publication", or an author's handle."""

    actor = models.CharField(max_length=40, unique=True)
    private_pem = models.TextField()
    public_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"key of {self.actor}"


class RemoteActor(models.Model):
    """An account on another server, as its actor document said when last fetched.

    `user` is its local stand-in: remote likes, re-stacks and replies are
    written as that user's, so bans, moderation and counters apply unchanged."""

    uri = models.URLField(max_length=500, unique=True)
    key_id = models.URLField(max_length=500, db_index=True)
    public_key_pem = models.TextField()
    inbox = models.URLField(max_length=500)
    shared_inbox = models.URLField(max_length=500, blank=True)
    domain = models.CharField(max_length=255, db_index=True)
    preferred_username = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500, blank=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="remote_actor")
    fetched_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.handle

    @property
    def handle(self) -> str:
        return f"@{self.preferred_username or 'unknown'}@{self.domain}"

    @property
    def delivery_inbox(self) -> str:
        return self.shared_inbox or self.inbox


class Follower(models.Model):
    """A remote actor following one of ours (`local`: "publication" or an author's handle)."""

    remote = models.ForeignKey(RemoteActor, on_delete=models.CASCADE, related_name="follows")
    local = models.CharField(max_length=40)
    follow_uri = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["remote", "local"], name="one_follow_per_actor_pair")]
        indexes = [models.Index(fields=["local"])]

    def __str__(self) -> str:
        return f"{self.remote} follows {self.local}"


class OutboundActivity(models.Model):
    """An activity we publish (Create, Update, Delete of an Article; Accept of a Follow)."""

    uri = models.URLField(max_length=500, unique=True)
    kind = models.CharField(max_length=20)
    actor = models.CharField(max_length=40)  # the local actor that signs it
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.uri}"


class FederatedDelivery(models.Model):
    """One activity to one inbox: unique, claimed before it is sent (as blog.newsletter.delivery does for e-mail)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    activity = models.ForeignKey(OutboundActivity, on_delete=models.CASCADE, related_name="deliveries")
    inbox = models.URLField(max_length=500)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField()  # when it may be sent (again)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "inbox"], name="one_delivery_per_inbox")]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.activity_id} to {self.inbox}: {self.status}"


class InboundActivity(models.Model):
    """An activity id already handled: a server that sends it twice changes nothing twice."""

    uri = models.URLField(max_length=500, unique=True)
    kind = models.CharField(max_length=20)
    actor = models.ForeignKey(RemoteActor, on_delete=models.CASCADE, related_name="activities")
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.uri}"


class RemoteObject(models.Model):
    """What a remote Note, Like or Announce became here, so that Delete and Undo find it.

    A like or re-stack is found again by post and the actor's stand-in user, not
    by a key on the Like row: a key there would cost every unlike a query."""

    class Kind(models.TextChoices):
        NOTE = "note", "Reply"
        LIKE = "like", "Like"
        ANNOUNCE = "announce", "Boost"

    uri = models.URLField(max_length=500, unique=True)
    actor = models.ForeignKey(RemoteActor, on_delete=models.CASCADE, related_name="objects_made")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    comment = models.OneToOneField(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="remote")
    url = models.URLField(max_length=500, blank=True)  # where a person reads it (the remote HTML page)

    def __str__(self) -> str:
        return self.uri


class BlockedInstance(models.Model):
    """A server moderators blocked: nothing from it is accepted, nothing is sent to it."""

    domain = models.CharField(max_length=255, unique=True)
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class Following(models.Model):
    """A local reader following a remote actor (a publication elsewhere), and whether it accepted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followings")
    remote = models.ForeignKey(RemoteActor, on_delete=models.CASCADE, related_name="followed_by")
    follow_uri = models.URLField(max_length=500, unique=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "remote"], name="one_following_per_reader")]

    def __str__(self) -> str:
        return f"{self.user} follows {self.remote}"


class ReceivedArticle(models.Model):
    """A post that a followed remote actor sent us (Create{Article} or a Note), shown to its followers here."""

    remote = models.ForeignKey(RemoteActor, on_delete=models.CASCADE, related_name="articles")
    uri = models.URLField(max_length=500, unique=True)
    url = models.URLField(max_length=500, blank=True)
    name = models.CharField(max_length=300, blank=True)
    summary = models.TextField(blank=True)
    content_html = models.TextField(blank=True)  # remote HTML cut to text, rendered with the comment rules
    published = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return self.name or self.uri
