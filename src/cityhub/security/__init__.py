"""Users, roles, sessions, API keys and the append-only audit log."""
