"""API keys: made and revoked on the command line, presented in a header."""
