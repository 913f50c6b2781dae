"""The insurance-card import pipeline.

files: open the stored file, detect encoding/delimiter/format, map headers, stream rows.
rows: validate one row into a staged record or a list of problems.
merge: COPY a chunk into a staging table and merge it set-wise into citizens, books, cards.
pipeline: run a batch chunk by chunk under a lease, recording progress in each chunk's transaction.
services: create a batch from an upload (checksum, storage, task on commit) and sweep stuck ones.
"""
