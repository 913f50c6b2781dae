"""A citizen's copy of the book (issue 19, point 3): the FHIR Bundle of `$everything` and a
readable PDF, made by a job, kept in the database, downloadable once, expiring; and the
ministry's data-protection report of these requests."""
