"""Models of the health book app, one module per area.

citizens: the people, their books and insurance cards. card_batches: the insurance-card
import batches and their rejected rows. Clinical records, intake and the access log will
get their own modules here.
"""

from healthbook.models.card_batches import CardBatch, CardBatchPerson, CardBatchProblem
from healthbook.models.citizens import BirthPrecision, Citizen, HealthBook, InsuranceCard, InsuranceCardHistory, Sex

__all__ = [
    "BirthPrecision",
    "CardBatch",
    "CardBatchPerson",
    "CardBatchProblem",
    "Citizen",
    "HealthBook",
    "InsuranceCard",
    "InsuranceCardHistory",
    "Sex",
]
