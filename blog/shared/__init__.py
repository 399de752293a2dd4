"""What every part of the product uses: the site's address and settings
(site, sitesettings), the one builder of every e-mail the site sends
(emails), Markdown to safe HTML (rendering), where files live
(files), rate limits (ratelimits), cross-site POSTs refused by origin
(origins), the events each process emits for webhooks (events), CSV cells
that never run as formulas (spreadsheets), which addresses Dispatch may
connect to (outbound), table and column names for hand-written SQL
(sqlnames).

May import: no other part (only blog.models and blog.pagecache, which every part may import).
"""
