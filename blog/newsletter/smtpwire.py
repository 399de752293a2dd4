"""A newsletter copy on the batch's one mail connection, in steps.

Over SMTP a copy is written but for its final dot (MAIL, RCPT, DATA and the
dot-stuffed message), so that delivery.py can put the dot and the row's mark
next to each other; the rules, and what each failure leaves, are
docs/email.md's "Exactly once: the claim, the mark and the final dot".
Any other backend (an HTTP provider, tests' locmem) gets the copy whole.
The rows, their claims and marks are delivery.py's.
"""

import contextlib
import email.policy
import re
import smtplib
import socket
from dataclasses import dataclass

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from blog.models import Delivery, Post
from blog.newsletter import emails
from blog.shared.emails import Rendered

_LINE_START_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class Rendering:
    """What every copy of one post (or one digest) is made from; `post` is None
    for a digest, and `prepared` is its bytes for the fast path (emails.Prepared)."""

    rendered: Rendered
    prepared: emails.Prepared | None
    post: Post | None
    links: emails.SubscriberLinks


class Sender:
    """The batch's one connection.

    When the backend speaks SMTP, a message goes out in steps on its smtplib
    connection: `begin` writes MAIL, RCPT, DATA and the dot-stuffed message,
    `write_dot` the final dot, `answer` reads the server's answer; the row is
    marked sent right after the dot (or, for an old claim, before it). A post's
    copy is its prepared bytes, a digest the bytes of its message object.
    Otherwise (an HTTP provider, tests' locmem backend, an address that needs
    SMTPUTF8) `begin` sends the message whole."""

    def __init__(self, connection: BaseEmailBackend) -> None:
        self.connection = connection
        self.smtp: smtplib.SMTP | None = None
        self.in_data = False  # the server has part of a message and waits for its final dot
        self.dot_written = False
        self.dropped = False
        self._bind()

    def _bind(self) -> None:
        smtp = getattr(self.connection, "connection", None)
        self.smtp = smtp if isinstance(smtp, smtplib.SMTP) else None
        if self.smtp is not None and self.smtp.sock is not None:
            # The final dot is a write of its own after the message: with Nagle's algorithm it would
            # wait for the server's delayed ACK of the message (40 ms on Linux) before leaving.
            self.smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def begin(self, delivery: Delivery, rendering: Rendering) -> bool:
        """True: the message waits for `end` (or `abort`); False: it went out whole."""
        if self.dropped:  # the last message was dropped mid-DATA: a new connection
            try:
                self.connection.open()
            except OSError as exc:  # smtplib's errors too: no server to send this one to, not a refusal of it
                raise ConnectionError(f"could not reconnect: {exc}") from exc
            self.dropped = False
            self._bind()
        subscriber, message_id = delivery.subscriber, emails.message_id_for(delivery.pk)
        if self.smtp is not None and subscriber.email.isascii():
            prep = self.connection.prep_address  # type: ignore[attr-defined]
            if rendering.prepared is not None:
                wire = rendering.prepared.for_subscriber(subscriber.email, rendering.links(subscriber), message_id)
                self._all_but_the_end(prep(settings.DEFAULT_FROM_EMAIL), subscriber.email, wire)
            else:
                message = emails.newsletter_message(rendering.rendered, subscriber, message_id, rendering.post)
                wire = message.message(policy=email.policy.SMTP).as_bytes()
                self._all_but_the_end(prep(message.from_email), prep(subscriber.email), wire)
            return True
        message = emails.newsletter_message(rendering.rendered, subscriber, message_id, rendering.post)
        self.connection.send_messages([message])
        return False

    def _all_but_the_end(self, sender: str, recipient: str, wire: bytes) -> None:
        assert self.smtp is not None
        smtp, self.dot_written = self.smtp, False
        smtp.ehlo_or_helo_if_needed()
        code, reply = smtp.mail(sender)
        if code != 250:
            smtp.rset()
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        code, reply = smtp.docmd("data")
        if code != 354:
            smtp.rset()
            raise smtplib.SMTPDataError(code, reply)
        body = _LINE_START_DOT.sub(b"..", wire)
        self.in_data = True
        smtp.send(body if body.endswith(b"\r\n") else body + b"\r\n")

    def write_dot(self) -> None:
        """The final dot: from here the server keeps the message."""
        assert self.smtp is not None
        self.smtp.send(b".\r\n")
        self.in_data, self.dot_written = False, True

    def answer(self) -> None:
        """The server's answer to the dot; a refusal raises an SMTP error."""
        assert self.smtp is not None
        code, reply = self.smtp.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)

    def end(self) -> None:
        self.write_dot()
        self.answer()

    def abort(self) -> None:
        """Drop the connection without the final dot: the server discards the
        unfinished message. Inside DATA nothing else can say so (an RSET or
        QUIT would be read as a line of the message), so the next message
        opens a new connection."""
        if self.smtp is not None:
            self.smtp.close()
        self.close()
        self.smtp, self.in_data, self.dropped = None, False, True

    def close(self) -> None:
        """Close the backend's connection; one already broken is simply gone (smtplib's errors are OSErrors)."""
        with contextlib.suppress(OSError):
            self.connection.close()
