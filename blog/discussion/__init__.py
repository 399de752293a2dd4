"""What readers do on a post: comments and the rules each goes through
(comments, moderation), threads in reading order and in cached pages
(threads, commentpages), comment notifications (notifications), bans,
likes, shares, re-stacks and referrals (engagement, counters), and a
signed-in reader's own state on a post's page (readerstate).

May import: blog.shared, blog.newsletter (a reader's subscription shows on a post's page).
"""
