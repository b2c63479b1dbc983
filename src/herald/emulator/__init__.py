"""A local stand-in for Meta's WhatsApp Cloud API, speaking its HTTP contract."""
