"""DynamoDB persistence: one repository per entity, table schemas, key builders and errors."""
