import django.contrib.postgres.search
from django.db import migrations, models

# Word pairs make "exact phrase" searches cheap (blog/posts/search.py). GIN keeps no
# word positions, so without them PostgreSQL reads the whole stored vector
# (10-16 KB, out of line) of every post that has all the words of a phrase to
# check their order. `search_pairs` holds a 20-bit hash (5 hex digits of md5) of
# every two words that stand next to each other in `search_vector`; a phrase
# looks its pairs up in this GIN index first and checks the order only in the
# few posts that have them. Hash collisions only add candidates, which the full
# check removes; array_to_tsvector drops duplicates. About 5 ms a post.
# PostgreSQL only; the index is kept out of the model state like 0012's.
FUNCTION = """
CREATE OR REPLACE FUNCTION blog_word_pairs(vector tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_tsvector(coalesce(array_agg(left(md5(one.lexeme || ' ' || two.lexeme), 5)), '{}'))
    FROM (SELECT lexeme, unnest(positions) AS position FROM unnest(vector)) AS one
    JOIN (SELECT lexeme, unnest(positions) AS position FROM unnest(vector)) AS two
      ON two.position = one.position + 1
$$
"""
INDEX = "blog_post_search_pairs_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute("UPDATE blog_post SET search_pairs = blog_word_pairs(search_vector)")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON blog_post USING gin (search_pairs)")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
        schema_editor.execute("DROP FUNCTION IF EXISTS blog_word_pairs(tsvector)")


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0013_daily_flows"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="search_pairs",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create_index, drop_index),
    ]
