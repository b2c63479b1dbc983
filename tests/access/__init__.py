"""Access control: ownership, tokens, secrets at rest and what the logs may carry."""
