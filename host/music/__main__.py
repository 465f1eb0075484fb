"""`python -m host.music`: print the music table as Markdown, as host/music/README.md shows it."""

from host.music.catalog import default_catalog, mapping_table_markdown, moods_table_markdown

print(mapping_table_markdown(default_catalog()))
print()
print(moods_table_markdown(default_catalog()))
