# English pages keep the Vietnamese habits for dates (dd/mm/yyyy, typed the same way whatever the
# browser's language; 24-hour clock) but write numbers the English way: 1,234.5.
from config.formats.vi.formats import *  # noqa: F403

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
