"""HTML and HTMX handlers, one module per area, and the middlewares."""
