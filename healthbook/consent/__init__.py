"""The citizen's say over who reads the book (issue 19, points 2-3): closing it, share codes
for one facility, and copies of the book. The access rule (healthbook.book.access) reads the
rows written here; the citizen API (citizenapi) calls these services."""
