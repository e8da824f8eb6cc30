"""PostgreSQL: the pool, the database side of a request, migrations, the embedded server."""
