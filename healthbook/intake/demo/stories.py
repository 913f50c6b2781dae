"""The people of the `make run` demo: plausible for age and sex, dated relative to today, across
several facilities and provinces. Pure Python (no Django): the launcher's start banner imports
it before Django is set up. The clinical content (diagnoses by age, lab values on the code
list's reference ranges, the vaccine schedule, the FHIR bundles) is in clinical.py.

Two parts, both sent as signed XML 130 envelopes and FHIR bundles through the real intake API
by seed_demo_submissions:

* stories(): a few named (generated) people whose books show what the book is for — a chronic
  patient followed monthly at two facilities in two provinces, a pregnancy followed at two
  facilities, a child vaccinated on the national schedule, and the people the follow-up lists
  (issue 20) look for: hypertension and diabetes patients overdue for their follow-up, a child
  overdue for a dose, a child with no vaccination recorded (overdue for every dose), a pregnant
  woman without a check-up for 8 weeks, a chronic patient not seen for 12 months. The README
  and the start banner list them (banner_lines).
* clinical.background_visits: the visits of about 200 citizens of the demo card batch, with diagnoses
  drawn by age and sex (DIAGNOSES), lab values mostly in range (from the reference ranges of
  the lab-indicator code list, in its units) and some out of range.

Facilities are named by role: "hn" (01001, Hà Nội, the demo doctor bs.an's hospital), "hcm"
(79001, TP. Hồ Chí Minh, bs.binh), "hn_station" (a commune health station of Hà Nội) and "dn"
(a facility of Đà Nẵng); the command resolves the last two among the generated facilities.
Vaccine codes and their schedule are read from the vaccine code list (codelists/seed/vaccine.csv).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from healthbook.intake.demo.clinical import at_days_back, tetanus_vaccine_code, vaccine_schedule, visit

# ---------------------------------------------------------------- the people of the stories


@dataclass
class Person:
    key: str
    name: str
    female: bool
    born: date
    province: str  # residence (new 2-digit code)
    serial: int  # of the generated personal ID
    note_vi: str  # what the book shows (banner, README)
    visits: list = field(default_factory=list)  # (facility role, datetime, clinical dict)
    vaccines: list = field(default_factory=list)  # (facility role, datetime, vaccine code, dose)
    checkups: list = field(default_factory=list)  # (facility role, datetime, weeks, lmp date)

    def as_citizen(self, n: int) -> dict:
        group = "TE1" if self.age(date.today()) < 6 else "HT2" if self.age(date.today()) >= 60 else "GD4"
        sin = f"{self.province}{90_000_000 + self.serial:08d}"
        return {
            "n": n,
            "name": self.name,
            "female": self.female,
            "born": self.born,
            "pid": _pid(self.province, self.born.year, 2 if self.female else 1, 990_000 + self.serial),
            "sin": sin,
            "card": f"{group}{self.province}{sin}",
            "province": self.province,
            "address": STORY_ADDRESS.get(self.province, "Hà Nội"),
            "patient_id": f"BN{n:08d}",
        }

    def seen_at(self, role: str) -> bool:
        """Whether the person has a visit, vaccination or check-up at that facility role."""
        return any(item[0] == role for item in (*self.visits, *self.vaccines, *self.checkups))

    def age(self, on: date) -> int:
        return on.year - self.born.year - ((on.month, on.day) < (self.born.month, self.born.day))


STORY_ADDRESS = {
    "01": "Số 12 Ngõ Thử Nghiệm, Phường Mẫu, Hà Nội",
    "79": "Số 45 Đường Thử Nghiệm, Phường Mẫu, TP. Hồ Chí Minh",
    "48": "Số 8 Đường Thử Nghiệm, Phường Mẫu, Đà Nẵng",
}


def _pid(province: str, year: int, sex: int, serial: int) -> str:
    return f"0{province}{(year // 100 - 19) * 2 + (sex - 1)}{year % 100:02d}{serial:06d}"


def _years_ago(today: date, years: int, days: int = 0) -> date:
    return date(today.year - years, today.month, min(today.day, 28)) - timedelta(days=days)


def stories(today: date) -> list[Person]:
    """The named demo people, their visits, vaccinations and check-ups, dated back from today."""
    people = []

    # 1. Hypertension and type 2 diabetes, followed monthly at bs.an's hospital for 11 months,
    #    once seen in Đà Nẵng: a book across two facilities and two provinces.
    p = Person(
        "chronic",
        "Đỗ Văn Khải",
        False,
        _years_ago(today, 63, 40),
        "01",
        1,
        "tăng huyết áp và đái tháo đường típ 2, tái khám hằng tháng tại 01001, một lần khám ở Đà Nẵng",
    )
    for i, back in enumerate(range(330, 20, -30)):
        hba1c = 1.9 - i * 0.08  # 7.8 % falling towards 6.9 %
        glucose = 1.6 - i * 0.06
        bp = (158 - i * 2, 96 - i)
        p.visits.append(
            (
                "hn",
                at_days_back(today, back, 8, 10 + i),
                visit(
                    "I10",
                    panel="diabetes",
                    out={"HbA1c": hba1c, "Glucose": glucose},
                    drugs=("40.473", "40.677"),
                    note=f"HA {bp[0]}/{bp[1]} mmHg, mạch 78 l/p. Tuân thủ điều trị, đường huyết cải thiện.",
                    follow=30,
                    weight=72 - i * 0.3,
                    secondary=["E11.9"],
                ),
            )
        )
    p.visits.append(
        (
            "dn",
            at_days_back(today, 165, 15, 20),
            visit(
                "J20.9",
                panel="infection",
                out={"WBC": 1.25, "NEU_PERCENT": 1.1},
                drugs=("40.1", "40.218"),
                note="Ho, sốt 38,2°C 3 ngày khi về quê. HA 150/90 mmHg.",
                weight=71,
                secondary=["I10", "E11.9"],
            ),
        )
    )
    people.append(p)

    # 2. A pregnancy followed at a Hà Nội commune station, then at bs.an's hospital.
    lmp = today - timedelta(weeks=27)
    p = Person(
        "pregnancy",
        "Lương Thị Hồng Nhung",
        True,
        _years_ago(today, 29, 100),
        "01",
        2,
        "mang thai 27 tuần, khám thai tại trạm y tế phường và tại 01001",
    )
    for weeks, role in ((8, "hn_station"), (12, "hn_station"), (16, "hn"), (22, "hn"), (26, "hn")):
        p.checkups.append(
            (
                role,
                datetime.combine(lmp + timedelta(weeks=weeks, days=2), datetime.min.time()).replace(hour=9),
                weeks,
                lmp,
            )
        )
    p.visits.append(
        (
            "hn",
            datetime.combine(lmp + timedelta(weeks=16, days=2), datetime.min.time()).replace(hour=9, minute=40),
            visit(
                "O99.0",
                panel="pregnancy",
                out={"HGB": -0.2},
                note="Thai 16 tuần, thiếu máu nhẹ. Bổ sung sắt.",
                weight=54,
            ),
        )
    )
    tetanus = tetanus_vaccine_code()
    if tetanus:
        when = datetime.combine(lmp + timedelta(weeks=22, days=2), datetime.min.time()).replace(hour=10)
        p.vaccines.append(("hn", when, tetanus, 1))
    people.append(p)

    # 3. A child of 14 months vaccinated on the schedule (birth doses at the hospital, the rest at
    #    the commune station), with two common illnesses.
    born = today - timedelta(days=425)
    p = Person(
        "child",
        "Đinh Gia Bảo",
        False,
        born,
        "01",
        3,
        "bé 14 tháng, tiêm chủng đủ theo lịch, khám tại 01001 và trạm y tế phường",
    )
    for dose in vaccine_schedule():
        if dose.age_days <= 400:
            role = "hn" if dose.age_days == 0 else "hn_station"
            when = datetime.combine(born + timedelta(days=max(dose.age_days, 1)), datetime.min.time()).replace(hour=9)
            p.vaccines.append((role, when, dose.code, dose.dose))
    p.visits.append(
        (
            "hn_station",
            at_days_back(today, 425 - 210, 9),
            visit("J06.9", note="Sốt 38°C, chảy mũi. Phổi không ran.", weight=8.1),
        )
    )
    p.visits.append(
        (
            "hn",
            at_days_back(today, 425 - 330, 10),
            visit("A09.0", note="Tiêu chảy 2 ngày, không mất nước. Oresol.", weight=9.4),
        )
    )
    people.append(p)

    # 4. A child of 5 months overdue for the doses of 3 and 4 months (seen at 79001).
    born = today - timedelta(days=150)
    p = Person(
        "child_overdue",
        "Lâm Minh Khang",
        False,
        born,
        "79",
        4,
        "bé 5 tháng, trễ mũi 5 trong 1 lần 2 (lịch 3 tháng tuổi)",
    )
    for dose in vaccine_schedule():
        if dose.age_days <= 60:
            when = datetime.combine(born + timedelta(days=max(dose.age_days, 1)), datetime.min.time()).replace(hour=9)
            p.vaccines.append(("hcm", when, dose.code, dose.dose))
    people.append(p)

    # 5. Hypertension overdue for follow-up: seen in Đà Nẵng, then at 79001, whose appointment
    #    of two months ago was missed. No care relationship with bs.an's hospital.
    p = Person(
        "htn_overdue",
        "Tạ Quang Vinh",
        False,
        _years_ago(today, 54, 200),
        "48",
        5,
        "tăng huyết áp, lỡ hẹn tái khám 2 tháng; khám ở Đà Nẵng và 79001, chưa từng khám tại 01001",
    )
    p.visits.append(
        (
            "dn",
            at_days_back(today, 190, 8),
            visit(
                "I10",
                panel="hypertension",
                out={"Cholesteroltoanphan": 1.25},
                drugs=("40.473",),
                note="HA 162/98 mmHg. Bắt đầu điều trị.",
                follow=30,
                weight=78,
            ),
        )
    )
    p.visits.append(
        (
            "dn",
            at_days_back(today, 125, 8),
            visit(
                "I10",
                panel="hypertension",
                drugs=("40.473", "40.517"),
                note="HA 146/92 mmHg.",
                follow=30,
                weight=77,
                secondary=["E78.5"],
            ),
        )
    )
    p.visits.append(
        (
            "hcm",
            at_days_back(today, 92, 14),
            visit(
                "I10",
                panel="hypertension",
                drugs=("40.473", "40.517"),
                note="HA 142/90 mmHg. Chuyển công tác vào TP.HCM.",
                follow=30,
                weight=77,
                secondary=["E78.5"],
            ),
        )
    )
    people.append(p)

    # 6. Type 2 diabetes overdue for follow-up (79001, once at 01001 on a trip).
    p = Person(
        "dm_overdue",
        "Châu Thị Ngọc Hân",
        True,
        _years_ago(today, 57, 30),
        "79",
        6,
        "đái tháo đường típ 2, quá hẹn tái khám; khám tại 79001 và một lần tại 01001",
    )
    for back, hba1c in ((240, 1.8), (180, 1.6), (120, 1.5)):
        p.visits.append(
            (
                "hcm",
                at_days_back(today, back, 9),
                visit(
                    "E11.9",
                    panel="diabetes",
                    out={"HbA1c": hba1c, "Glucose": 1.4},
                    drugs=("40.677",),
                    note="Đường huyết đói tăng, chưa kiểm soát tốt.",
                    follow=30,
                    weight=63,
                ),
            )
        )
    p.visits.append(
        (
            "hn",
            at_days_back(today, 200, 15),
            visit(
                "K29.7",
                panel="general",
                drugs=("40.691",),
                note="Đau thượng vị khi đi công tác Hà Nội.",
                weight=63,
                secondary=["E11.9"],
            ),
        )
    )
    people.append(p)

    # 7. A pregnant woman without a check-up for 10 weeks (Đà Nẵng, then 79001).
    lmp = today - timedelta(weeks=23)
    p = Person(
        "pregnancy_late",
        "Kiều Thị Thu Trang",
        True,
        _years_ago(today, 33, 60),
        "79",
        7,
        "mang thai 23 tuần, lần khám thai gần nhất cách đây 10 tuần",
    )
    for weeks, role in ((7, "dn"), (13, "hcm")):
        p.checkups.append(
            (role, datetime.combine(lmp + timedelta(weeks=weeks), datetime.min.time()).replace(hour=10), weeks, lmp)
        )
    # The 13-week check-up's visit in XML 130 too: it places her residence (MATINH_CU_TRU), so the
    # cohort of pregnant women without a check-up for 8 weeks (issue 20) counts her in her province.
    p.visits.append(
        (
            "hcm",
            datetime.combine(lmp + timedelta(weeks=13), datetime.min.time()).replace(hour=10),
            visit("O21.0", note="Khám thai 13 tuần: nôn nghén nhẹ, thai phát triển bình thường.", weight=56),
        )
    )
    people.append(p)

    # 8. A chronic patient not seen for 13 months (79001 and Đà Nẵng).
    p = Person(
        "lost",
        "Mai Thị Xuân",
        True,
        _years_ago(today, 72, 10),
        "79",
        8,
        "tăng huyết áp, bệnh phổi tắc nghẽn mạn; không đi khám 13 tháng",
    )
    for back, role in ((480, "dn"), (450, "hcm"), (420, "hcm"), (395, "hcm")):
        p.visits.append(
            (
                role,
                at_days_back(today, back, 8),
                visit(
                    "J44.9" if back == 480 else "I10",
                    panel="hypertension",
                    drugs=("40.473",),
                    note="HA 150/88 mmHg, khó thở khi gắng sức.",
                    follow=30,
                    weight=49,
                    secondary=["J44.9"] if back != 480 else ["I10"],
                ),
            )
        )
    people.append(p)

    # 9. A Hà Nội resident seen only elsewhere: no care relationship with bs.an's hospital.
    p = Person(
        "elsewhere",
        "Triệu Văn Tùng",
        False,
        _years_ago(today, 45, 90),
        "01",
        9,
        "khám tại 79001 và Đà Nẵng, không có quan hệ khám chữa bệnh với 01001",
    )
    p.visits.append(
        (
            "hcm",
            at_days_back(today, 170, 10),
            visit(
                "K29.7", panel="general", out={"ALT": 1.4}, drugs=("40.691",), note="Đau thượng vị, ợ chua.", weight=68
            ),
        )
    )
    p.visits.append(
        (
            "dn",
            at_days_back(today, 55, 16),
            visit("M54.5", drugs=("40.1", "40.1005"), note="Đau thắt lưng sau mang vác nặng.", weight=68),
        )
    )
    people.append(p)

    # 10. A Hà Nội child of 7 with no vaccination in the book: overdue for every dose of the
    #     expanded-immunisation schedule, so each per-dose cohort (issue 20) has a member.
    p = Person(
        "unvaccinated",
        "Hà Minh Khôi",
        False,
        _years_ago(today, 7, 90),
        "01",
        10,
        "bé 7 tuổi, sổ chưa ghi mũi tiêm chủng nào (quá hạn mọi mũi trong lịch)",
    )
    p.visits.append(
        ("hn_station", at_days_back(today, 20, 9), visit("J06.9", note="Sốt nhẹ, ho, sổ mũi 3 ngày.", weight=22))
    )
    people.append(p)
    people += hanoi_follow_up_stories(today)
    return people


def hanoi_follow_up_stories(today: date) -> list[Person]:
    """Hà Nội people for each of the follow-up lists (issue 20: a provincial officer of Hà Nội sees
    every shipped cohort by commune): hypertension and diabetes overdue for follow-up, a pregnant
    woman without a check-up for 9 weeks, a chronic patient not seen for 13 months. The child
    overdue for every dose is Hà Minh Khôi above."""
    people = []

    # 11. Hypertension followed at the commune station, appointment of 10 weeks ago missed.
    p = Person(
        "htn_overdue_hn",
        "Nghiêm Văn Lộc",
        False,
        _years_ago(today, 61, 75),
        "01",
        11,
        "tăng huyết áp, lỡ hẹn tái khám 10 tuần tại trạm y tế phường (Hà Nội)",
    )
    for back, bp in ((160, (156, 94)), (100, (148, 90))):
        p.visits.append(
            (
                "hn_station",
                at_days_back(today, back, 8, 15),
                visit(
                    "I10",
                    panel="hypertension",
                    drugs=("40.473",),
                    note=f"HA {bp[0]}/{bp[1]} mmHg. Hẹn tái khám sau 30 ngày.",
                    follow=30,
                    weight=70,
                ),
            )
        )
    people.append(p)

    # 12. Type 2 diabetes followed at bs.an's hospital, appointment of 2 months ago missed.
    p = Person(
        "dm_overdue_hn",
        "Phùng Thị Lan",
        True,
        _years_ago(today, 52, 140),
        "01",
        12,
        "đái tháo đường típ 2, quá hẹn tái khám 2 tháng tại 01001",
    )
    for back, hba1c in ((210, 1.7), (150, 1.5), (90, 1.4)):
        p.visits.append(
            (
                "hn",
                at_days_back(today, back, 9, 5),
                visit(
                    "E11.9",
                    panel="diabetes",
                    out={"HbA1c": hba1c, "Glucose": 1.3},
                    drugs=("40.677",),
                    note="Đường huyết đói còn cao. Hẹn tái khám sau 30 ngày.",
                    follow=30,
                    weight=58,
                ),
            )
        )
    people.append(p)

    # 13. A pregnancy of 20 weeks whose last check-up (11 weeks) at the commune station was 9 weeks
    #     ago; the 11-week visit goes in XML 130 too (it places her residence).
    lmp = today - timedelta(weeks=20)
    p = Person(
        "pregnancy_late_hn",
        "Vũ Thị Mai Anh",
        True,
        _years_ago(today, 24, 50),
        "01",
        13,
        "mang thai 20 tuần, lần khám thai gần nhất (trạm y tế phường) cách đây 9 tuần",
    )
    for weeks in (7, 11):
        p.checkups.append(
            (
                "hn_station",
                datetime.combine(lmp + timedelta(weeks=weeks), datetime.min.time()).replace(hour=9),
                weeks,
                lmp,
            )
        )
    p.visits.append(
        (
            "hn_station",
            datetime.combine(lmp + timedelta(weeks=11), datetime.min.time()).replace(hour=9, minute=30),
            visit("O21.0", note="Khám thai 11 tuần: nôn nghén nhẹ, thai phát triển bình thường.", weight=50),
        )
    )
    people.append(p)

    # 14. Hypertension and COPD, followed at bs.an's hospital, not seen for 13 months.
    p = Person(
        "lost_hn",
        "Bạch Văn Thành",
        False,
        _years_ago(today, 69, 20),
        "01",
        14,
        "tăng huyết áp, bệnh phổi tắc nghẽn mạn; không đi khám 13 tháng (Hà Nội)",
    )
    for back in (470, 440, 405):
        p.visits.append(
            (
                "hn",
                at_days_back(today, back, 10),
                visit(
                    "I10",
                    panel="hypertension",
                    drugs=("40.473",),
                    note="HA 146/88 mmHg, ho khạc đờm buổi sáng.",
                    weight=61,
                    secondary=["J44.9"],
                ),
            )
        )
    people.append(p)
    return people


def banner_lines() -> list[str]:
    """Demo patients to try, for the start banner (the README lists the same people)."""
    today = date.today()
    lines = ["Demo patients to try as bs.an (Tìm công dân; the name without diacritics, e.g. 'do van khai'):"]
    for p in stories(today):
        may = "mở được (có quan hệ KCB)" if p.seen_at("hn") else "chỉ truy cập khẩn cấp"
        lines.append(f"  {p.name:<22} {p.born.year}  {p.note_vi} — bs.an: {may}")
    return lines
