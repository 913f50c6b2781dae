"""Official sources on the dashboards, developer provenance for administrators only (issue 18).

The dashboards cited news sites (sggp.org.vn, hanoitimes.vn, vietnamnet.vn) for the rollout
targets and no source for the national population. The user-facing text now names the
official source each figure comes from -- the National Assembly's resolutions (202/2025/QH15 on
the provinces of 2025; the resolution of 11/12/2025 on the 2026-2035 health programme), the
Government's 2024 nationwide rollout, the statistics office -- and where the figures were
technically taken from moves to `source_note`, shown only to administrators (the dashboards'
technical note, like codelists' source note). Only rows still holding the seeded text change:
an edited source survives.
"""

from django.db import migrations, models

PROVINCE_POPULATION = "Số ước tính theo hồ sơ Nghị quyết 202/2025/QH15 về sắp xếp đơn vị hành chính cấp tỉnh"
PROVINCE_POPULATION_NEW = (
    "Hồ sơ Nghị quyết số 202/2025/QH15 của Quốc hội về việc sắp xếp đơn vị hành chính cấp tỉnh (số ước tính)"
)
PROVINCE_POPULATION_NOTE = (
    "Dân số tỉnh: geo/data/provinces.csv, chép từ shared/domain/provinces.csv (ThienFakeVN/countries_dictionary, "
    "theo Wikipedia / hồ sơ NQ 202/2025/QH15). 34 số cộng lại khoảng 113,6 triệu, cao hơn dân số cả nước "
    "(có thể tính cả người tạm trú): thay bằng dân số trung bình của Cục Thống kê khi có."
)
NATIONAL_POPULATION = "Khoảng 101 triệu người trên cả nước (số ước tính)"
NATIONAL_POPULATION_NEW = (
    "Cục Thống kê (trước đây là Tổng cục Thống kê): dân số trung bình cả nước năm 2024 khoảng 101 triệu người "
    "(làm tròn)"
)
NATIONAL_POPULATION_NOTE = (
    "Dân số cả nước: 101.000.000 được đặt trong migration 0004 không ghi nguồn; số chính thức gần nhất là dân số "
    "trung bình năm 2024 của GSO (khoảng 101,3 triệu, công bố tháng 1/2025), chưa đối chiếu được với ấn phẩm "
    "của GSO từ máy xây dựng (không có Internet)."
)
TARGET_2025 = (
    "Mục tiêu đặt ra tháng 10/2024: 100% cơ sở khám chữa bệnh kết nối và 40 triệu người sử dụng sổ "
    "(sggp.org.vn; hanoitimes.vn)"
)
TARGET_2025_NEW = (
    "Mục tiêu Chính phủ đặt ra khi mở rộng sổ sức khỏe điện tử toàn quốc (tháng 10/2024): 100% cơ sở khám chữa "
    "bệnh kết nối và 40 triệu người sử dụng sổ"
)
TARGET_2025_NOTE = (
    "Mục tiêu 2025: theo tin sggp.org.vn (sau-2025-moi-nguoi-dan-so-huu-mot-so-suc-khoe-dien-tu-tren-vneid-post765228), "
    "hanoitimes.vn (all-vietnamese-citizens-to-have-electronic-health-records-pm-328162) và vietnam.vn; chưa tìm "
    "được văn bản đặt con số 40 triệu."
)
TARGET_2030 = (
    "Nghị quyết của Quốc hội ngày 11/12/2025: 100% người dân có sổ sức khỏe điện tử vào năm 2030 (vietnamnet.vn)"
)
TARGET_2030_NEW = (
    "Nghị quyết của Quốc hội ngày 11/12/2025 về Chương trình mục tiêu quốc gia về chăm sóc sức khỏe, dân số và "
    "phát triển giai đoạn 2026–2035: 100% người dân có sổ sức khỏe điện tử vào năm 2030"
)
TARGET_2030_NOTE = "Mục tiêu 2030: theo tin vietnamnet.vn; chưa tìm được số và toàn văn nghị quyết."

CHANGES = (  # (field, seeded text, official text, technical note)
    ("population_source", PROVINCE_POPULATION, PROVINCE_POPULATION_NEW, PROVINCE_POPULATION_NOTE),
    ("population_source", NATIONAL_POPULATION, NATIONAL_POPULATION_NEW, NATIONAL_POPULATION_NOTE),
    ("target_source", TARGET_2025, TARGET_2025_NEW, TARGET_2025_NOTE),
    ("target_source", TARGET_2030, TARGET_2030_NEW, TARGET_2030_NOTE),
)


def official(apps, schema_editor):
    RolloutTarget = apps.get_model("provinces", "RolloutTarget")
    notes: dict[int, list[str]] = {}
    for field, old, new, note in CHANGES:
        for pk in RolloutTarget.objects.filter(**{field: old}).values_list("pk", flat=True):
            notes.setdefault(pk, []).append(note)
        RolloutTarget.objects.filter(**{field: old}).update(**{field: new})
    rows = list(RolloutTarget.objects.filter(pk__in=notes))
    for row in rows:
        row.source_note = "\n".join(notes[row.pk])
    RolloutTarget.objects.bulk_update(rows, ["source_note"])


def back(apps, schema_editor):
    RolloutTarget = apps.get_model("provinces", "RolloutTarget")
    for field, old, new, _note in CHANGES:
        RolloutTarget.objects.filter(**{field: new}).update(**{field: old})


class Migration(migrations.Migration):
    dependencies = [("provinces", "0009_commune_day_rollups")]
    operations = [
        migrations.AddField(
            model_name="rollouttarget",
            name="source_note",
            field=models.TextField(
                blank=True,
                default="",
                help_text="Where the figures were taken from technically; shown to administrators only.",
                verbose_name="technical note on the sources",
            ),
        ),
        migrations.RunPython(official, back),
    ]
