"""The cohorts the ministry asked for in issue 20, as data (version 1 of each; ministry staff
edit them by adding versions). The per-dose immunisation cohorts follow the schedule of the
`vaccine` code list, which is loaded after the migrations: the nightly job creates one per dose
(cohorts.services.vaccine_cohorts_ensure); the "any dose" cohort is here."""

from django.db import migrations

HYPERTENSION = ["I10", "I11", "I12", "I13", "I15"]
DIABETES = ["E10", "E11", "E12", "E13", "E14"]

SHIPPED = [
    (
        "hypertension-follow-up-missed",
        "Người tăng huyết áp quá hạn tái khám",
        "Người có chẩn đoán tăng huyết áp (I10–I15) có lịch hẹn tái khám trong 12 tháng qua đã quá "
        "hạn 7 ngày mà chưa có lần khám nào từ ngày hẹn.",
        {"diagnosis_codes": HYPERTENSION, "follow_up_missed_days": 7},
    ),
    (
        "diabetes-follow-up-missed",
        "Người đái tháo đường quá hạn tái khám",
        "Người có chẩn đoán đái tháo đường (E10–E14) có lịch hẹn tái khám trong 12 tháng qua đã quá "
        "hạn 7 ngày mà chưa có lần khám nào từ ngày hẹn.",
        {"diagnosis_codes": DIABETES, "follow_up_missed_days": 7},
    ),
    (
        "hypertension-diabetes-follow-up-missed",
        "Người tăng huyết áp hoặc đái tháo đường quá hạn tái khám",
        "Người có chẩn đoán tăng huyết áp hoặc đái tháo đường có lịch hẹn tái khám quá hạn 7 ngày.",
        {"diagnosis_codes": HYPERTENSION + DIABETES, "follow_up_missed_days": 7},
    ),
    (
        "children-vaccine-overdue",
        "Trẻ quá hạn ít nhất một mũi tiêm chủng mở rộng",
        "Trẻ dưới 8 tuổi có ít nhất một mũi trong lịch tiêm chủng mở rộng quá hạn hơn 30 ngày.",
        {"vaccine_overdue": {"vaccine": "", "position": None}},
    ),
    (
        "pregnant-no-checkup-8-weeks",
        "Phụ nữ mang thai không khám thai 8 tuần",
        "Phụ nữ đang mang thai (có lần khám thai với ngày dự sinh chưa tới) không có lần khám thai nào "
        "trong 8 tuần qua.",
        {"sex": [2], "pregnant_no_checkup_weeks": 8},
    ),
    (
        "chronic-not-seen-12-months",
        "Người bệnh mạn tính không đến khám 12 tháng",
        "Người có chẩn đoán thuộc nhóm bệnh mạn tính của danh mục ICD-10 mà lần khám gần nhất đã quá "
        "12 tháng.",
        {"diagnosis_groups": ["chronic"], "last_visit_before_days": 365},
    ),
]


def forward(apps, schema_editor):
    Definition = apps.get_model("cohorts", "CohortDefinition")
    Version = apps.get_model("cohorts", "CohortVersion")
    for key, name, description, criteria in SHIPPED:
        definition, created = Definition.objects.get_or_create(key=key)
        if created:
            Version.objects.create(definition=definition, number=1, name=name, description=description, criteria=criteria)


def backward(apps, schema_editor):
    Definition = apps.get_model("cohorts", "CohortDefinition")
    Version = apps.get_model("cohorts", "CohortVersion")
    keys = [row[0] for row in SHIPPED]
    Version.objects.filter(definition__key__in=keys).delete()
    Definition.objects.filter(key__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [("cohorts", "0001_cohorts")]
    operations = [migrations.RunPython(forward, backward)]
