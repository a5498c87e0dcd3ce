"""One module per schema version, applied in order by bot/storage/migrate.py."""
