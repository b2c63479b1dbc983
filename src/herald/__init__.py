"""Herald: a self-hosted WhatsApp template-messaging gateway."""

__version__ = "0.1.0"
