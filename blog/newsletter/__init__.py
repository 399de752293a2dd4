"""Subscribers and what is sent to them: double opt-in, preferences and
unsubscribing (subscriptions), the members page (members), who gets which
newsletter exactly once (delivery), each copy on the mail connection, over
SMTP written but for its final dot (smtpwire), the newsletter's e-mails,
made with the site's one builder in blog.shared (emails), counted link
clicks (clicks) and e-mail
providers' bounces and complaints (providerevents).

May import: blog.shared.
"""
