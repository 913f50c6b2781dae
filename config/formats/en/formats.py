# English pages keep the Vietnamese habits (dd/mm/yyyy, 24-hour clock): same formats.
from config.formats.vi.formats import *  # noqa: F403
