"""Every table, imported here so that ``Base.metadata`` is complete for Alembic."""

from herald.models.base import Base
from herald.models.contact import Contact, ContactTag
from herald.models.user import User

__all__ = ["Base", "Contact", "ContactTag", "User"]
