"""What goes in and out whole: other systems' and Dispatch's own exports in
(imports/), the publication out as one ZIP (exports), and a reader's own data
to download, and closing their account (readerdata).

May import: blog.shared, blog.posts, blog.discussion.
"""
