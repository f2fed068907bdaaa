"""The baselines the gateway is measured against, each served by one uvicorn worker.

(a) `starlette_json`: a bare Starlette JSON endpoint, the ceiling of the HTTP stack.
(b) `strawberry_memory`: bare strawberry with the parser and validation caches,
    answering the same operations from memory: the ceiling of GraphQL alone.
(c) `raw_sql`: Starlette with the raw driver (asyncpg, or aiosqlite on SQLite)
    reading and writing the same rows: the floor of the database work.
"""
