"""DynamoDB underneath the repositories: client and helpers, table schemas, item keys, errors, limits storage."""
