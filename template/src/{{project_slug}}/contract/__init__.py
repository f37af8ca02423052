"""The HTTP contract both web adapters serve: problems, pages, the OpenAPI document and its docs pages,
CORS, security headers, request ids and health answers, written once."""
