"""Reason codes the import adds to those of healthbook.identifiers, and their messages."""

from django.utils.translation import gettext_lazy as _

from healthbook import identifiers

IMPORT_MESSAGES = {
    "ROW_WIDTH": _("The row has more cells than the header; a value probably contains an unquoted delimiter."),
    "CELL_UNSTORABLE": _("The cell contains a NUL character or an invalid Unicode character; the row was not loaded."),
    "NAME_MOJIBAKE": _(
        'The full name looks garbled by a wrong encoding (for example "Nguyá»…n"); the row was not loaded.'
    ),
    "ETHNICITY_CODE": _("The ethnicity code is not in the ethnicity code list in force."),
    "NATIONALITY_CODE": _("The nationality code must be 1 to 3 letters or digits."),
    "COMMUNE_CODE": _("The commune code must have 5 digits; it is left blank."),
    "COMMUNE_UNKNOWN": _(
        "The commune code is not one of the 3,321 communes in force since 1 July 2025 (an old commune code "
        "is not converted); it is left blank."
    ),
    "COMMUNE_OTHER_PROVINCE": _("The commune is not in the province of residence; it is left blank."),
    "PHONE_FORMAT": _("The phone number must have 8 to 15 digits, optionally after a +."),
    "ADDRESS_LENGTH": _("The address is longer than 500 characters."),
    "OUTSIDE_PROVINCE": _(
        "The person does not live in your province (province of residence, or else the card's issuing province)."
    ),
    "CITIZEN_OTHER_PROVINCE": _(
        "This person's health book is kept by another province (by the residence on record, not the row's): "
        "only that province or the Ministry may change it."
    ),
    "PID_CONFLICT": _("This personal ID number already belongs to a person with another social insurance number."),
    "DUPLICATE_PERSON": _("The same person appears again later in the file; the later row is used."),
}


def message_for(code: str):
    """The (lazy) message of a reason code, from the identifier rules or the import."""
    return IMPORT_MESSAGES.get(code) or identifiers.MESSAGES.get(code) or code
