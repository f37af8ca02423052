"""JWT access tokens, and refresh tokens that rotate."""
