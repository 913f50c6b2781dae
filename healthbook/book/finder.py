"""Finding a citizen: by personal ID, insurance number or card number, or by name typed with
or without diacritics (with typos corrected).

The finder decides nothing about access: callers (the doctor's search page) apply the
care-relationship rule of book.access before anything of a book is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from django.db import transaction

from core.replicas import connection  # the primary, or a lag-tolerant block's replica
from healthbook import identifiers as ids
from healthbook.models import Citizen
from healthbook.names import edit_distance, search_name

# ---------------------------------------------------------------- finding a citizen

NAME_SIMILARITY_THRESHOLD = 0.45


def citizen_find_exact(*, identifier: str) -> Citizen | None:
    """By personal ID (12 digits), social insurance number (10 digits) or card number (15
    characters; its last ten digits are the insurance number). One indexed lookup."""
    value = ids.normalize_code(identifier)
    qs = Citizen.objects.select_related("card", "book", "residence_province")
    if len(value) == 12 and value.isdigit():
        return qs.filter(personal_id=value).first()
    if len(value) == 10 and value.isdigit():
        return qs.filter(social_insurance_number=value).first()
    if len(value) == 15 and value[5:].isdigit():
        return qs.filter(card__card_number=value).first() or qs.filter(social_insurance_number=value[5:]).first()
    return None


@dataclass(frozen=True)
class CitizenMatch:
    citizen: Citizen
    score: float


def _ranked(sql: str, params: dict, *, threshold: float | None = None) -> list[tuple[int, float]]:
    if threshold is None:  # one statement: no transaction round trips
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(threshold)])
        cursor.execute(sql, params)
        return cursor.fetchall()


_FILTERS = {"year": "birth_year = %(year)s", "province": "residence_province_id = %(province)s"}


def citizens_find_by_name(
    *, name: str, birth_year: int | None = None, province_id: int | None = None, limit: int = 20
) -> list[CitizenMatch]:
    """Rank citizens by the name typed without diacritics ("nguyen van an" finds "Nguyễn Văn
    An"), optionally within a birth year and a province of residence.

    1. The exact name, then names that start with it ("nguyen van an" → "nguyen van anh"):
       a B-tree range scan, score 1.0 for the exact name.
    2. Only if nothing matched so (a typo, a missing word): without a birth year, first among
       the names sharing the longest prefix with the typed name (a typo in the last word:
       _near_prefix, B-tree); then, with or without one, with the typed words that occur in no
       name corrected against the dictionary of name words (a typo in any word:
       _corrected_words, B-tree; fewest edits first); only then by trigram similarity
       (pg_trgm): within the birth year when one is given (an index-only scan over that year's
       names), else through the trigram GIN index. Ranked by similarity to the name as typed.
    """
    wanted = search_name(name)
    if len(wanted) < 3:
        return []
    params: dict = {"q": wanted, "prefix": _like_prefix(wanted), "limit": limit}
    filters = []
    if birth_year:
        filters.append(_FILTERS["year"])
        params["year"] = birth_year
    if province_id:
        filters.append(_FILTERS["province"])
        params["province"] = province_id
    extra = "".join(f" AND {f}" for f in filters)
    ranked = _ranked(
        "SELECT id, CASE WHEN search_name = %(q)s THEN 1.0 ELSE similarity(search_name, %(q)s) END AS score "  # noqa: S608
        f"FROM healthbook_citizen WHERE search_name LIKE %(prefix)s{extra} "
        "ORDER BY search_name = %(q)s DESC, search_name, id LIMIT %(limit)s",
        params,
    )
    if not ranked:
        ranked = (None if birth_year else _near_prefix(wanted, params, extra)) or _corrected_words(
            wanted, params, extra
        )
    if not ranked:
        seen = [0]
        params |= {"seen": seen, "rest": limit - len(ranked), "threshold": NAME_SIMILARITY_THRESHOLD}
        # Within a birth year the similarity function is computed over that year's names from the
        # covering index; without one, the % operator lets the trigram GIN index find candidates.
        match = "similarity(search_name, %(q)s) >= %(threshold)s" if birth_year else "search_name %% %(q)s"
        ranked += _ranked(
            "SELECT id, similarity(search_name, %(q)s) AS score FROM healthbook_citizen "  # noqa: S608
            f"WHERE {match}{extra} AND NOT (id = ANY(%(seen)s)) "
            "ORDER BY score DESC, id LIMIT %(rest)s",
            params,
            threshold=NAME_SIMILARITY_THRESHOLD,
        )
    citizens = Citizen.objects.select_related("residence_province").in_bulk([pk for pk, _ in ranked])
    return [CitizenMatch(citizens[pk], float(score)) for pk, score in ranked if pk in citizens]


# Before the trigram index (which, without a birth year, must recheck every "nguyen van …" for
# a misspelt "nguyen van ann"), a typo in the last word (the given name) is looked for among
# the names sharing the longest prefix with the typed one — the earlier words whole and at
# least the first letter of the last — through the B-tree; at most NEAR_PREFIX_CANDIDATES names
# are ranked per step, each step one index range scan.
NEAR_PREFIX_CANDIDATES = 200
NEAR_PREFIX_STEPS = 4


def _near_prefix(wanted: str, params: dict, extra: str) -> list[tuple[int, float]]:
    shortest = max(5, wanted.rfind(" ") + 2)
    for cut in range(1, NEAR_PREFIX_STEPS + 1):
        if len(wanted) - cut < shortest:
            break
        step = params | {
            "prefix": _like_prefix(wanted[:-cut]),
            "threshold": NAME_SIMILARITY_THRESHOLD,
            "candidates": NEAR_PREFIX_CANDIDATES,
        }
        ranked = _ranked(
            "SELECT id, score FROM (SELECT id, similarity(search_name, %(q)s) AS score "  # noqa: S608
            f"FROM healthbook_citizen WHERE search_name LIKE %(prefix)s{extra} "
            "ORDER BY search_name USING ~<~ LIMIT %(candidates)s) near "
            "WHERE score >= %(threshold)s ORDER BY score DESC, id LIMIT %(limit)s",
            step,
        )
        if ranked:
            return ranked
    return []


# A typo in an earlier word (the family or middle name) without birth year would otherwise go
# to the trigram GIN index, which must recheck every name sharing the common trigrams; any
# typo with a birth year to a similarity scan of that year's names. Instead, each typed word
# that occurs in no name (healthbook_name_word; the last word may be the start of one) is replaced by the
# dictionary words near it — edit distance up to 1 for words of up to four letters, 2 for
# longer ones, an adjacent swap counting one; the nearest first — and the corrected names are
# looked up as typed names are (B-tree prefix range scans, at most CORRECTED_NAMES of them),
# ranked by the number of edits, then by similarity to the name as typed. Nothing found so:
# the trigram paths.
CORRECTION_CANDIDATES = 4  # per misspelt word, the nearest first
CORRECTED_NAMES = 16  # the fewest edits first
CORRECTED_WORDS = 3  # more misspelt words than that: the trigram paths

_UNKNOWN_WORDS = """
WITH typed AS (SELECT w, pos FROM unnest(%(words)s::text[]) WITH ORDINALITY AS t(w, pos)),
unknown AS (
    SELECT w, pos FROM typed
    WHERE NOT EXISTS (SELECT 1 FROM healthbook_name_word d WHERE d.word = typed.w)
      AND NOT (pos = %(last)s AND EXISTS (SELECT 1 FROM healthbook_name_word d WHERE d.word LIKE %(last_prefix)s))
)
SELECT u.pos, u.w, d.word FROM unknown u
LEFT JOIN healthbook_name_word d ON length(d.word) BETWEEN length(u.w) - 2 AND length(u.w) + 2
    AND levenshtein_less_equal(d.word, u.w, 2) <= 2
"""


def _word_corrections(words: list[str]) -> dict[int, list[tuple[int, str]]] | None:
    """Position (0-based) -> [(edit distance, dictionary word)], nearest first, for each typed
    word that occurs in no name; None when a word cannot be corrected so (or every word is known)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _UNKNOWN_WORDS,
            {
                "words": words,
                "last": len(words),
                "last_prefix": _like_prefix(words[-1]),
            },
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    near: dict[int, list[tuple[int, str]]] = {}
    for pos, typed, word in rows:
        found = near.setdefault(pos - 1, [])
        if word is not None:
            distance = edit_distance(typed, word)
            if distance <= (1 if len(typed) <= 4 else 2):
                found.append((distance, word))
    if not all(near.values()):
        return None
    return {pos: sorted(found)[:CORRECTION_CANDIDATES] for pos, found in near.items()}


def _corrected_words(wanted: str, params: dict, extra: str) -> list[tuple[int, float]]:
    """Names found with the misspelt words corrected: fewest edits first, then by similarity."""
    words = wanted.split()
    corrections = _word_corrections(words)
    if not corrections or len(corrections) > CORRECTED_WORDS:
        return []
    choices = [corrections.get(pos, [(0, word)]) for pos, word in enumerate(words)]
    names = sorted(
        (sum(distance for distance, _ in name), " ".join(word for _, word in name)) for name in product(*choices)
    )[:CORRECTED_NAMES]
    lookups = " UNION ALL ".join(
        f"(SELECT id, search_name, {distance} AS edits FROM healthbook_citizen "  # noqa: S608
        f"WHERE search_name LIKE %(name{i})s{extra} ORDER BY search_name USING ~<~ LIMIT %(limit)s)"
        for i, (distance, _) in enumerate(names)
    )
    return [
        (pk, score)
        for pk, score, _ in _ranked(
            "SELECT id, similarity(search_name, %(q)s) AS score, min(edits) AS edits "  # noqa: S608
            f"FROM ({lookups}) found GROUP BY id, search_name "
            "ORDER BY edits, score DESC, search_name, id LIMIT %(limit)s",
            params | {f"name{i}": _like_prefix(name) for i, (_, name) in enumerate(names)},
        )
    ]


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def citizens_find(
    *, query: str, birth_year: int | None = None, province_id: int | None = None, limit: int = 20
) -> list[CitizenMatch]:
    """One search box: an identifier finds exactly one citizen, anything else searches by name."""
    digits = ids.normalize_code(query)
    if digits[-10:].isdigit() and len(digits) in (10, 12, 15):
        found = citizen_find_exact(identifier=digits)
        return [CitizenMatch(found, 1.0)] if found else []
    return citizens_find_by_name(name=query, birth_year=birth_year, province_id=province_id, limit=limit)
