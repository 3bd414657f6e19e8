"""Which contracts count towards an authority's statutory safe-accommodation
return for a reporting year. A commissioner flags them; the return is then
compiled from those contracts' accepted quarterly returns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.audit import audited
from monitor.auth.models import User
from monitor.contracts.models import Contract
from monitor.db import Base
from monitor.model_helpers import utcnow


@audited("safe accommodation contract")
class SafeAccommodationContract(Base):
    """One contract counted as relevant safe accommodation for one financial year."""

    __tablename__ = "safe_accommodation_contracts"
    __table_args__ = (
        UniqueConstraint("contract_id", "financial_year"),
        CheckConstraint("financial_year LIKE '____/__'", name="financial_year_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    # Written as 2013/14, like the rest of the app's financial years.
    financial_year: Mapped[str] = mapped_column(String(7))
    flagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow)

    contract: Mapped[Contract] = relationship()
    flagged_by: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        # The audit trail reads this during a flush, when loading the contract
        # would mean another query: name it only when it is already loaded.
        contract = self.__dict__.get("contract")
        named = contract.reference if contract is not None else f"contract {self.contract_id}"
        return f"{named} for {self.financial_year}"
