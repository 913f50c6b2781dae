"""The legal bases of the seeded lab-indicator and vaccine lists in Vietnamese (issue 18): a
database loaded before the seed file changed keeps its rows until the next load, so the two
English texts are replaced here as well (the code system row is not a frozen version)."""

from django.db import migrations

RENAMES = {
    "QĐ 7603/QĐ-BYT Phụ lục 11 (codes not available); QĐ 3176/QĐ-BYT interim coding rule": (
        "QĐ 7603/QĐ-BYT Phụ lục 11 (chưa công bố mã); quy tắc đặt mã tạm thời của QĐ 3176/QĐ-BYT"
    ),
    "Chương trình TCMR (no code-list decision found)": (
        "Chương trình Tiêm chủng mở rộng (chưa có quyết định ban hành danh mục mã)"
    ),
}


def forward(apps, schema_editor):
    CodeSystem = apps.get_model("codelists", "CodeSystem")
    for old, new in RENAMES.items():
        CodeSystem.objects.filter(legal_basis=old).update(legal_basis=new)


class Migration(migrations.Migration):
    dependencies = [("codelists", "0006_mapping_target_icd9cm")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
