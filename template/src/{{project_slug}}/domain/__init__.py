"""The framework-agnostic core: schemas, models and services, shared by every web adapter."""
