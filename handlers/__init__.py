"""HTTP layer: one blueprint per resource, the error envelope and the Flask extensions."""
