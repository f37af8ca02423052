"""Login throttling: failed logins counted per account and per client address, in the database."""
