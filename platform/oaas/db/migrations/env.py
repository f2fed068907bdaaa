"""Alembic environment: always handed a live connection by oaas.db.migrate."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `oaas db upgrade`, which supplies the connection")

context.configure(
    connection=connection,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
