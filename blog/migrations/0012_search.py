import django.contrib.postgres.search
from django.db import migrations, models

# The GIN index exists on PostgreSQL only; it is kept out of the model state so
# that SQLite, which rebuilds tables from that state, never tries to create it.
INDEX = "blog_post_search_vector_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON blog_post USING gin (search_vector)")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


def fill_search_columns(apps, schema_editor):
    from blog.shared.rendering import text_from_html

    Post = apps.get_model("blog", "Post")
    for post in Post.objects.only("pk", "body_html").iterator():
        Post.objects.filter(pk=post.pk).update(body_text=text_from_html(post.body_html))
    if schema_editor.connection.vendor == "postgresql" and Post.objects.exists():
        from blog.posts.search import index_posts

        index_posts()


class Migration(migrations.Migration):

    dependencies = [
        ('blog', '0011_trust'),
        ('taggit', '0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx'),
    ]

    operations = [
        migrations.AddField(
            model_name='post',
            name='body_text',
            field=models.TextField(default='', editable=False),
        ),
        migrations.AddField(
            model_name='post',
            name='search_vector',
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='post',
            name='search_heading',
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(fill_search_columns, migrations.RunPython.noop),
    ]
