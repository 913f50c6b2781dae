"""Signals of the intake, for the parts of the portal that act on what facilities send.

`check_ins_recorded` is sent once the transaction that wrote new check-ins has committed, with
`check_in_ids` (the new `healthbook.CheckIn` rows). It is the hook for announcing each check-in
to the citizen ("Bệnh viện … đã tiếp đón bạn lúc …", issue 19): a receiver queues the
announcement; nothing is connected yet. Check-ins sent again (the same key) are not announced
twice.
"""

from django.dispatch import Signal

check_ins_recorded = Signal()
