"""The operator's rate card: what Meta charges per delivered message, by pricing category and
the recipient's country calling code (or a default for every country)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, IdMixin, UtcDateTime

# The calling code of the rate that applies to every country without a rate of its own. A
# value rather than NULL: NULLs are never equal, so a unique constraint would not hold.
EVERY_COUNTRY = "*"


class Rate(IdMixin, Base):
    """One price: installation-wide (the operator's, read by API and worker processes alike),
    one currency for the whole card."""

    __tablename__ = "rates"
    __table_args__ = (UniqueConstraint("pricing_category", "country_calling_code"),)

    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    pricing_category: Mapped[str] = mapped_column(String(40), nullable=False)
    country_calling_code: Mapped[str] = mapped_column(String(4), nullable=False)
    # Exact money: never a float.
    price: Mapped[Decimal] = mapped_column(Numeric(14, 6, asdecimal=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
