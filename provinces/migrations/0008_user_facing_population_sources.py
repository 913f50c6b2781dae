"""Population sources as a user reads them (issue 18): the dashboards showed developer notes
("ThienFakeVN/countries_dictionary", "nên thay bằng dân số trung bình của GSO"). Where the
figures come from technically stays recorded in 0004_seed_rollout_targets."""

from django.db import migrations

OLD_PROVINCE = (
    "provinces.csv (ThienFakeVN/countries_dictionary, theo Wikipedia / hồ sơ Nghị quyết 202/2025/QH15) — số ước tính"
)
NEW_PROVINCE = "Số ước tính theo hồ sơ Nghị quyết 202/2025/QH15 về sắp xếp đơn vị hành chính cấp tỉnh"
OLD_NATIONAL = "Khoảng 101 triệu người trên cả nước (số ước tính; nên thay bằng dân số trung bình của GSO)"
NEW_NATIONAL = "Khoảng 101 triệu người trên cả nước (số ước tính)"


def relabel(apps, schema_editor):
    RolloutTarget = apps.get_model("provinces", "RolloutTarget")
    RolloutTarget.objects.filter(population_source=OLD_PROVINCE).update(population_source=NEW_PROVINCE)
    RolloutTarget.objects.filter(population_source=OLD_NATIONAL).update(population_source=NEW_NATIONAL)


def back(apps, schema_editor):
    RolloutTarget = apps.get_model("provinces", "RolloutTarget")
    RolloutTarget.objects.filter(population_source=NEW_PROVINCE).update(population_source=OLD_PROVINCE)
    RolloutTarget.objects.filter(population_source=NEW_NATIONAL).update(population_source=OLD_NATIONAL)


class Migration(migrations.Migration):
    dependencies = [("provinces", "0007_unusual_check_ins")]
    operations = [migrations.RunPython(relabel, back)]
