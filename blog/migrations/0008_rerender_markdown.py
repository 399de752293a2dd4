"""Render every stored body again: comments and re-stack notes lose the classes
and ids readers put in them, and post ids take the renderer's prefix."""

from django.db import migrations


def rerender(apps, schema_editor):
    from blog.shared.rendering import render_markdown

    Post = apps.get_model("blog", "Post")
    Comment = apps.get_model("blog", "Comment")
    Restack = apps.get_model("blog", "Restack")
    for post in Post.objects.only("pk", "body").iterator():
        Post.objects.filter(pk=post.pk).update(body_html=render_markdown(post.body))
    for comment in Comment.objects.exclude(body="").only("pk", "body").iterator():
        Comment.objects.filter(pk=comment.pk).update(body_html=render_markdown(comment.body, comment=True))
    for item in Restack.objects.exclude(note="").only("pk", "note").iterator():
        Restack.objects.filter(pk=item.pk).update(note_html=render_markdown(item.note, comment=True))


class Migration(migrations.Migration):
    dependencies = [("blog", "0007_insights")]

    operations = [migrations.RunPython(rerender, migrations.RunPython.noop)]
