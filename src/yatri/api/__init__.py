"""JSON API v1: bearer tokens, problem+json errors, the same services as the HTML pages."""
