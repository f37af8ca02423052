"""The FastAPI adapter: HTTP in front of the domain layer, nothing more."""
