"""The event store: ports, codec, the SQLite and PostgreSQL backends, and the schema's lifecycle."""
