"""Shared machinery: database, migrations, logging, pagination, messages."""
