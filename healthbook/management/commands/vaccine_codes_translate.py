"""Give doses stored before their code was mapped the national vaccine code (issue 17, point 5).

Intake translates a dose sent as a CVX code or a programme product name to the national vaccine
code (healthbook.intake.crosswalk); doses stored before the vaccine list carried those mappings
kept the code as sent and so did not count on the schedule. This command translates them the
same way (the coding as stored is kept in sent_system / sent_code). Set-based and rerunnable.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from healthbook.intake.crosswalk import stored_doses_translate


class Command(BaseCommand):
    help = "Translate stored doses sent as CVX codes or product names to the national vaccine codes."

    def handle(self, *args, **options):
        with transaction.atomic():
            count = stored_doses_translate()
        self.stdout.write(self.style.SUCCESS(f"{count} doses translated to the national vaccine codes"))
