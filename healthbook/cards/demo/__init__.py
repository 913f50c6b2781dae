"""Generated insurance-card batch files (CSV or XLSX): the demo data of `make run`
(seed_demo_cards) and the files of the import tests and benchmarks. Pure Python (no Django).

The command line (bench/gen_cards.py):

    python bench/gen_cards.py --rows 1000000 --seed 7 --bad-share 0.05 \\
        --out var/cards-7.csv --emit-expected var/cards-7.expected.json

Columns (XML 130-style names, shared/domain/vn-ehb.md §2.4 and the BHXH
validation workbook): MA_THE_BHYT, MA_SO_BHXH, SO_CCCD, HO_TEN,
NGAY_SINH (yyyyMMdd), GIOI_TINH (1 male, 2 female, 3 undetermined --
workbook "Bang 1", VERIFIED), MA_DKBD, GT_THE_TU, GT_THE_DEN (yyyyMMdd),
MATINH_CU_TRU (new 2-digit province code of residence), DIA_CHI.
MA_DOITUONG_KCB is *not* written: the docs define it as the visit-object
code of an encounter (QĐ 824), not a card attribute; the card's beneficiary
group is the first two letters of MA_THE_BHYT.

What is synthetic (no legal source): the group -> benefit-level mapping,
group choice by age, facility code suffixes, addresses, the family-name
frequencies (approximate public figures).  Identifier *structure* follows
healthbook/identifiers/ (see its docstring for sources and [UNVERIFIED]
points).

Properties:

* Deterministic: the same arguments give byte-identical output.  Each row
  is a pure function of (seed, row index), so ``--existing-seed`` can
  re-create rows of an earlier file without reading it.
* Streaming, constant memory (CSV via ``csv.writer``; XLSX via openpyxl
  write-only mode; the expected JSON is streamed too).
* Unique people: within a file and across files whose seeds differ modulo
  100, personal IDs and social insurance numbers never repeat (they are
  Feistel-network bijections of (seed % 100, index), so they look random
  but cannot collide; rows < 10^8).  So a valid file has no
  duplicate persons and "accepted" = rows - rejected.
* ``--bad-share F``: that fraction of rows (drawn per row) gets exactly one
  labelled defect; ``--emit-expected`` lists for each such row the line
  number (header = line 1), the defect kind and the exact
  ``[(column, code)]`` that ``healthbook.identifiers.check_card_row`` reports
  with ``ReferenceSets.defaults()`` and ``today = --as-of``.
* ``--existing-share F --existing-seed S2 [--existing-rows M]``: that
  fraction of rows re-uses people from the file that ``--seed S2 --rows M``
  produces (its *valid* version of row j: generate that file without
  ``--bad-share`` for exact re-import counts); each source row is used at
  most once.  ``--existing-change-share F2`` renews the card (validity
  +1 year) on that fraction of them -- for R4 ("10 % rows changed").
"""
