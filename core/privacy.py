"""How much of an identifier a page may show."""


def mask_id(value: str | None) -> str:
    """`001234561234` → `•••••••••234`: the last 3 digits only, enough to tell apart the few
    people a search shows, not to rebuild the ID. The first six digits of a personal ID are the
    province of birth, century and sex, and the birth year — all guessable from what the page
    shows beside it — so showing them left only the hidden serial digits to guess (issue 15)."""
    if not value:
        return ""
    return "•" * max(len(value) - 3, 0) + value[-3:]
