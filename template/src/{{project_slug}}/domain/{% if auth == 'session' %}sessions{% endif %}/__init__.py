"""Server-side sessions: a cookie for the browser, a row and a CSRF token for the service."""
