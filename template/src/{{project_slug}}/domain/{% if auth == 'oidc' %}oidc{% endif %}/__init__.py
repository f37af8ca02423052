"""OpenID Connect: tokens of an external identity provider, checked against its published keys."""
