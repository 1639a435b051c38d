"""HTTP access API: routes, problem+json errors, middleware, health and metrics."""
