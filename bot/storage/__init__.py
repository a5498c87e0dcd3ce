"""The storage package: every table supbot keeps (tables.py), the engine a configuration names
(engine.py) and the schema's versions (migrate.py, migrations/). SQLAlchemy and Alembic are
imported only here, and only by the commands that use them (`supbot db …`)."""
