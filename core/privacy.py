"""How much of an identifier a page may show."""


def mask_id(value: str | None) -> str:
    """`001234561234` → `001•••••1234`: enough to tell two people apart, not to reuse."""
    if not value:
        return ""
    return value[:3] + "•" * max(len(value) - 7, 0) + value[-4:]
