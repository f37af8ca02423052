"""Database plumbing: engines, sessions and migrations."""
