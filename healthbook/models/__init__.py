"""Models of the health book app, one module per area.

citizens: the people, their books and insurance cards. card_batches: the insurance-card
import batches and their rejected rows. intake: submissions from facility software (raw
bytes, status, problems). clinical: the history merged from them (encounters and their
detail, immunizations, pregnancy check-ups, papers, documents). reminders: follow-up and
vaccination reminders to citizens. See docs/intake.md.
"""

from healthbook.models.card_batches import CardBatch, CardBatchPerson, CardBatchProblem, CardBatchShard
from healthbook.models.citizens import (
    BirthPrecision,
    Citizen,
    HealthBook,
    InsuranceCard,
    InsuranceCardHistory,
    NameWord,
    ResidenceSource,
    Sex,
)
from healthbook.models.clinical import (
    BirthCertificate,
    CheckIn,
    ClinicalNote,
    DischargePaper,
    Document,
    Encounter,
    EncounterHistory,
    FollowUpAppointment,
    Immunization,
    LabObservation,
    Medication,
    PregnancyCheckup,
    ReceivedTable,
    RecordSummary,
    Referral,
    ServiceItem,
    SickLeaveCertificate,
)
from healthbook.models.consent import BookClosure, CopyRequest, ShareCode, ShareCodeAttempt
from healthbook.models.intake import Submission, SubmissionPayload, SubmissionProblem
from healthbook.models.notifications import Notification
from healthbook.models.record import Allergy, ClinicalProcedure, Condition, DiagnosticReport
from healthbook.models.reminders import Reminder

__all__ = [
    "BookClosure",
    "CopyRequest",
    "ShareCode",
    "ShareCodeAttempt",
    "ResidenceSource",
    "Allergy",
    "Condition",
    "DiagnosticReport",
    "ClinicalProcedure",
    "BirthCertificate",
    "CheckIn",
    "ClinicalNote",
    "DischargePaper",
    "Document",
    "Encounter",
    "EncounterHistory",
    "FollowUpAppointment",
    "Immunization",
    "LabObservation",
    "Medication",
    "PregnancyCheckup",
    "ReceivedTable",
    "RecordSummary",
    "Referral",
    "ServiceItem",
    "SickLeaveCertificate",
    "Submission",
    "SubmissionPayload",
    "SubmissionProblem",
    "BirthPrecision",
    "CardBatch",
    "CardBatchPerson",
    "CardBatchProblem",
    "CardBatchShard",
    "Citizen",
    "HealthBook",
    "InsuranceCard",
    "InsuranceCardHistory",
    "NameWord",
    "Reminder",
    "Notification",
    "Sex",
]
