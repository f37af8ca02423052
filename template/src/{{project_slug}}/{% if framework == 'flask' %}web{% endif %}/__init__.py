"""The Flask adapter: HTTP in front of the domain layer, nothing more."""
