"""Ledgers: definitions and versions, values with their history and masked audit, freshness, counts by condition."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.ledger_query import Condition, Operator, count_matching, find_matching
from ledger_store.ledgers import (
    LEFT,
    UNIT,
    DataLoss,
    KeyLocked,
    Loss,
    define_ledger,
    find_records,
    get_ledger,
    get_record,
    history,
    is_sensitive,
    known_values,
    mark_left,
    masked_value,
    records_in_units,
    rejoin,
    write_values,
)
from ledger_store.models import AuditEntry, Ledger, LedgerChange, OrgUnit, Person
from ledger_store.org import subtree_ids
from ledger_store.values.personal import id_number_problem

NOW = datetime(2024, 11, 28, 2, 0)
ZHANG = "110102199101010078"
LI = "44011320141005001X"
WANG = "110102198503071231"
FIELDS = [
    {"name": "id_number", "label": "身份证号", "type": "id_number", "required": True},
    {"name": "name", "label": "姓名", "type": "text", "required": True},
    {"name": "gender", "label": "性别", "type": "select_one", "choices": [{"value": "m", "label": "男"},
                                                                           {"value": "f", "label": "女"}]},
    {"name": "born", "label": "出生日期", "type": "date"},
    {"name": "mobile", "label": "手机号", "type": "mobile", "validity_days": 365},
    {"name": "spouse", "label": "配偶身份证号", "type": "id_number"},
    {"name": "poor", "label": "是否脱贫户", "type": "yes_no"},
    {"name": "income", "label": "人均年收入", "type": "decimal", "validity_days": 30},
    {"name": "members", "label": "家庭人口", "type": "integer"},
    {"name": "aid", "label": "享受政策", "type": "select_multiple",
     "choices": [{"value": "dibao", "label": "低保"}, {"value": "tekun", "label": "特困"},
                 {"value": "五保", "label": "五保"}]},
]  # fmt: skip


def residents(session: Session, fields: list[dict] = FIELDS) -> Ledger:
    """The residents ledger keyed by ID number."""
    return define_ledger(session, "residents", "常住人口台账", "id_number", fields, NOW)


def clerk(session: Session, account: str) -> int:
    """A person to act as the writer of values."""
    person = Person(account=account, name=account)
    session.add(person)
    session.flush()
    return person.id


def test_a_new_ledger_is_version_one_with_every_key_of_each_field(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledger = residents(session)
        assert (ledger.code, ledger.version, ledger.created_at) == ("residents", 1, NOW)
        assert ledger.fields[1] == {
            "name": "name", "label": "姓名", "type": "text", "required": True, "choices": [], "validity_days": None,
            "sensitive": False,
        }  # fmt: skip
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.entity, entry.old, entry.new["version"]) == ("ledger_define", "ledger", None, 1)


def test_changed_fields_make_a_new_version_and_the_same_ones_do_not(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        residents(session)
        assert residents(session).version == 1
        ledger = residents(session, [*FIELDS, {"name": "village_group", "label": "村民小组", "type": "text"}])
        assert ledger.version == 2
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert len(entries) == 2
        assert (entries[1].old["version"], len(entries[1].old["fields"]), len(entries[1].new["fields"])) == (1, 10, 11)


@pytest.mark.parametrize(
    ("fields", "key_field"),
    [
        ([{"name": "id_number", "label": "身份证号", "type": "integr"}], "id_number"),
        ([{"name": "1st", "label": "身份证号", "type": "id_number"}], "1st"),
        ([{"name": "id_number", "label": "身份证号", "type": "id_number", "hint": "?"}], "id_number"),
        ([{"name": "a", "label": "编号", "type": "text"}, {"name": "b", "label": "编号", "type": "text"}], "a"),
        ([{"name": "a", "label": "编号", "type": "text"}, {"name": "b", "label": "单位", "type": "text"}], "a"),
        ([{"name": "a", "label": "编号", "type": "text"}, {"name": "b", "label": "类别", "type": "select_one"}], "a"),
        ([{"name": "a", "label": "编号", "type": "text", "validity_days": 0}], "a"),
        ([{"name": "a", "label": "编号", "type": "yes_no"}], "a"),
        ([{"name": "a", "label": "编号", "type": "text"}], "b"),
    ],
)
def test_malformed_definitions_are_refused(db: sessionmaker[Session], fields: list[dict], key_field: str) -> None:
    with db.begin() as session, pytest.raises(ValueError):
        define_ledger(session, "bad", "坏台账", key_field, fields, NOW)


def test_the_key_and_the_types_change_freely_while_no_record_holds_a_value(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        residents(session)
        retyped = [*FIELDS[:-2], {**FIELDS[-2], "type": "decimal"}, FIELDS[-1]]
        assert residents(session, retyped).version == 2
        assert define_ledger(session, "residents", "常住人口台账", "mobile", retyped, NOW).key_field == "mobile"


def test_with_records_the_key_is_locked_and_a_losing_change_needs_confirming(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledger = residents(session)
        write_values(session, ledger, ZHANG, None, {"name": "张德华", "members": 4}, None, "test", NOW)
        with pytest.raises(KeyLocked, match="key field"):
            define_ledger(session, "residents", "常住人口台账", "mobile", FIELDS, NOW)
        retyped = [*FIELDS[:-2], {**FIELDS[-2], "type": "decimal"}, FIELDS[-1]]
        with pytest.raises(DataLoss) as refused:
            residents(session, retyped)
        assert refused.value.losses == [Loss("members", "家庭人口", "retyped", 1)]
        assert get_ledger(session, "residents").version == 1  # nothing changed


def test_write_values_creates_the_record_with_history_and_reads_values_back_typed(db: sessionmaker[Session]) -> None:
    values = {"name": "张德华", "born": date(1991, 1, 1), "income": Decimal("12500.50"), "poor": True,
              "members": 4, "aid": ["tekun", "dibao"], "gender": "m"}  # fmt: skip
    with db.begin() as session:
        ledger, hu = residents(session), clerk(session, "hu_xiaoyan")
        changed = write_values(session, ledger, ZHANG, None, values, hu, "task:12", NOW)
        assert sorted(changed) == sorted(values)
        known = known_values(session, ledger, ZHANG, NOW)
        assert {name: value.value for name, value in known.items()} == {
            **values, "income": Decimal("12500.5"), "aid": ["dibao", "tekun"]
        }  # fmt: skip
        assert known["born"] == (date(1991, 1, 1), NOW, True)
        assert get_record(session, ledger, ZHANG).values["income"] == "12500.5"  # JSON-safe text
        changes = history(session, ledger, ZHANG)
        assert {(c.field, c.old, c.actor_id, c.source) for c in changes} == {
            (name, None, hu, "task:12") for name in values
        }


def test_only_changed_values_leave_history_and_unchanged_ones_are_reconfirmed(db: sessionmaker[Session]) -> None:
    later = NOW + timedelta(days=3)
    with db.begin() as session:
        ledger, hu, zhang = residents(session), clerk(session, "hu_xiaoyan"), clerk(session, "zhang_dehua")
        write_values(session, ledger, ZHANG, None, {"name": "张德华", "members": 4}, hu, "task:12", NOW)
        changed = write_values(session, ledger, ZHANG, None, {"name": "张德华", "members": 5}, zhang, "task:13", later)
        assert changed == ["members"]
        assert [(c.old, c.new, c.at, c.source) for c in history(session, ledger, ZHANG, "members")] == [
            (None, 4, NOW, "task:12"),
            (4, 5, later, "task:13"),
        ]
        assert len(history(session, ledger, ZHANG, "name")) == 1
        assert known_values(session, ledger, ZHANG, later)["name"].confirmed_at == later
        assert write_values(session, ledger, ZHANG, None, {"members": 5}, zhang, "task:14", later) == []
        assert session.scalar(select(func.count()).select_from(LedgerChange)) == 3


def test_none_clears_a_value_and_the_key_is_normalised(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledger = residents(session)
        write_values(session, ledger, LI.lower(), None, {"name": "李敏", "mobile": "13908315526"}, None, "manual", NOW)
        assert write_values(session, ledger, f" {LI} ", None, {"mobile": None}, None, "manual", NOW) == ["mobile"]
        assert set(known_values(session, ledger, LI, NOW)) == {"name"}
        assert history(session, ledger, LI, "mobile")[-1].new is None


def test_the_audit_copy_masks_id_numbers_and_mobiles(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledger = residents(session)
        values = {"name": "张德华", "mobile": "13908315526", "spouse": LI}
        write_values(session, ledger, ZHANG, None, values, None, "task:12", NOW)
        write_values(session, ledger, ZHANG, None, {"mobile": "15823617730"}, None, "manual", NOW)
        created, updated = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_write")).all()
        assert created.new == {
            "_source": "task:12",
            "name": "张德华",
            "mobile": "139****5526",
            "spouse": "4401**********001X",
        }
        assert (updated.old, updated.new) == ({"mobile": "139****5526"}, {"_source": "manual", "mobile": "158****7730"})
        everything = json.dumps([created.old, created.new, updated.old, updated.new, created.entity_id])
        assert "13908315526" not in everything and LI not in everything and ZHANG not in everything


def test_freshness_follows_validity_days_as_the_clock_moves(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledger = residents(session)
        values = {"name": "张德华", "income": Decimal("9000"), "mobile": "13908315526"}
        write_values(session, ledger, ZHANG, None, values, None, "manual", NOW)

        def fresh(at: datetime) -> dict[str, bool]:
            return {name: known.fresh for name, known in known_values(session, ledger, ZHANG, at).items()}

        assert fresh(NOW + timedelta(days=30)) == {"name": True, "income": True, "mobile": True}
        assert fresh(NOW + timedelta(days=30, seconds=1)) == {"name": True, "income": False, "mobile": True}
        assert fresh(NOW + timedelta(days=400)) == {"name": True, "income": False, "mobile": False}
        assert fresh(datetime(2024, 12, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))["income"] is True
        assert fresh(datetime(2024, 12, 28, 10, 0, 1, tzinfo=ZoneInfo("Asia/Shanghai")))["income"] is False
        write_values(
            session, ledger, ZHANG, None, {"income": Decimal("9000.0")}, None, "task:3", NOW + timedelta(days=60)
        )
        assert fresh(NOW + timedelta(days=61))["income"] is True  # re-confirmed, unchanged
        assert len(history(session, ledger, ZHANG, "income")) == 1


def test_an_unknown_key_has_no_values_and_no_history(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledger = residents(session)
        assert known_values(session, ledger, ZHANG, NOW) == {}
        assert history(session, ledger, ZHANG) == []
        assert get_record(session, ledger, ZHANG) is None


@pytest.mark.parametrize(
    "values",
    [
        {"nickname": "小张"},
        {"id_number": ZHANG},
        {"members": "4"},
        {"members": True},
        {"income": 1.5},
        {"born": datetime(1991, 1, 1)},
        {"gender": "男"},
        {"aid": ["dibao", "wubao"]},
        {"mobile": "12345678901"},
        {"spouse": "36042619910102009X"},
        {"name": "  "},
    ],
)
def test_write_values_refuses_values_that_do_not_fit(db: sessionmaker[Session], values: dict) -> None:
    with db.begin() as session:
        ledger = residents(session)
        with pytest.raises(ValueError):
            write_values(session, ledger, ZHANG, None, values, None, "manual", NOW)


def test_a_record_moving_unit_is_history_and_units_list_their_records(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        songlin, yongxing = OrgUnit(name="松林村", level="village"), OrgUnit(name="永兴村", level="village")
        session.add_all([songlin, yongxing])
        session.flush()
        ledger = residents(session)
        write_values(session, ledger, ZHANG, songlin.id, {"name": "张德华"}, None, "manual", NOW)
        write_values(session, ledger, LI, songlin.id, {"name": "李敏"}, None, "manual", NOW)
        assert write_values(session, ledger, LI, yongxing.id, {"name": "李敏"}, None, "manual", NOW) == [UNIT]
        assert [(c.old, c.new) for c in history(session, ledger, LI, UNIT)] == [(songlin.id, yongxing.id)]
        assert [r.key for r in records_in_units(session, ledger, {songlin.id})] == [ZHANG]
        assert (
            write_values(session, ledger, LI, None, {"name": "李敏"}, None, "manual", NOW) == []
        )  # None keeps the unit
        # a unit only for a record created now: 李敏 stays in 永兴村, a new person is placed in 松林村
        write_values(session, ledger, LI, None, {"name": "李敏"}, None, "manual", NOW, unit_if_new=songlin.id)
        write_values(session, ledger, WANG, None, {"name": "王芳"}, None, "manual", NOW, unit_if_new=songlin.id)
        assert [r.key for r in records_in_units(session, ledger, {songlin.id})] == [ZHANG, WANG]
        assert [r.key for r in records_in_units(session, ledger, {songlin.id, yongxing.id})] == [ZHANG, LI, WANG]


def test_a_record_that_left_its_roster_keeps_its_values_and_comes_back_with_history(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        songlin = OrgUnit(name="松林村", level="village")
        session.add(songlin)
        session.flush()
        ledger = residents(session)
        actor = clerk(session, "zhang_dehua")
        for key, name in ((ZHANG, "张德华"), (LI, "李敏")):
            write_values(session, ledger, key, songlin.id, {"name": name}, None, "manual", NOW)
        record = get_record(session, ledger, LI)
        assert mark_left(session, ledger, record, "迁往外地", actor, "任务#1", NOW)
        assert not mark_left(session, ledger, record, "again", actor, "任务#1", NOW)  # left once
        assert (record.left_at, record.left_reason, record.values) == (NOW, "迁往外地", {"name": "李敏"})
        assert [r.key for r in records_in_units(session, ledger, {songlin.id})] == [ZHANG]
        assert find_records(session, ledger, [LI.lower(), ZHANG, WANG]) == {
            LI: record,
            ZHANG: get_record(session, ledger, ZHANG),
        }
        assert rejoin(session, ledger, record, actor, "任务#2", NOW) and not rejoin(
            session, ledger, record, actor, "x", NOW
        )
        assert [r.key for r in records_in_units(session, ledger, {songlin.id})] == [ZHANG, LI]
        assert [(c.old, c.new, c.source) for c in history(session, ledger, LI, LEFT)] == [
            (None, {"reason": "迁往外地"}, "任务#1"), ({"reason": "迁往外地"}, None, "任务#2"),
        ]  # fmt: skip
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.in_(["ledger_left", "ledger_rejoin"])))
        assert [(e.action, e.new["key"], e.actor_id) for e in entries] == [
            ("ledger_left", "4401**********001X", actor), ("ledger_rejoin", "4401**********001X", actor),
        ]  # fmt: skip


def test_count_matching_answers_department_questions(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        town = OrgUnit(name="朱沱镇", level="town")
        session.add(town)
        session.flush()
        village = OrgUnit(name="松林村", level="village", parent_id=town.id)
        session.add(village)
        session.flush()
        ledger = residents(session)
        people = [
            ("110102199101010078", None, {"name": "张甲", "poor": True, "members": 4, "gender": "m", "income": 3}),
            ("44011320141005001X", village.id, {"name": "李乙", "poor": True, "members": 2, "gender": "f"}),
            ("110101199003070038", village.id, {"name": "张丙", "poor": False, "members": 4, "born": date(1990, 3, 7)}),
        ]
        for key, unit, values in people:
            assert id_number_problem(key) is None
            write_values(session, ledger, key, unit, values, None, "manual", NOW)

        def count(*conditions: Condition, units: set[int] | None = None) -> int:
            return count_matching(session, ledger, conditions, units)

        assert count() == 3
        assert count(Condition("poor", Operator.EQUAL, (True,))) == 2
        assert count(Condition("poor", Operator.EQUAL, (True,)), Condition("members", Operator.EQUAL, (4,))) == 1
        assert count(Condition("gender", Operator.EQUAL, ("m", "f"))) == 2
        assert count(Condition("gender", Operator.NOT_EQUAL, ("m",))) == 2  # 女, and the one without a gender
        assert count(Condition("gender", Operator.EMPTY)) == 1
        assert count(Condition("born", Operator.PRESENT)) == 1
        assert count(Condition("income", Operator.EQUAL, (Decimal("3.00"),))) == 1
        assert count(Condition("born", Operator.EQUAL, (date(1990, 3, 7),))) == 1
        assert count(Condition("name", Operator.CONTAINS, ("张",))) == 2
        assert count(Condition("name", Operator.CONTAINS, ("%",))) == 0  # LIKE wildcards are plain text
        assert count(Condition("name", Operator.NOT_CONTAINS, ("甲", "乙"))) == 1
        assert count(Condition("poor", Operator.EQUAL, (True,)), units={village.id}) == 1
        assert count(units=subtree_ids(session, town.id)) == 2


def test_numbers_compare_as_numbers_and_dates_as_days(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledger = residents(session)
        people = [
            (ZHANG, {"name": "甲", "income": Decimal("900"), "members": 9, "born": date(1991, 1, 1)}),
            (LI, {"name": "乙", "income": Decimal("1000"), "members": 12, "born": date(2014, 10, 5)}),
            ("110101199003070038", {"name": "丙", "income": Decimal("85.5"), "members": 4, "born": date(1990, 3, 7)}),
        ]
        for key, values in people:
            write_values(session, ledger, key, None, values, None, "manual", NOW)

        def count(name: str, operator: Operator, value: object) -> int:
            return count_matching(session, ledger, [Condition(name, operator, (value,))])

        # As text "900" > "1000" and "85.5" > "1000"; as numbers neither is.
        assert count("income", Operator.GREATER, Decimal("1000")) == 0
        assert count("income", Operator.LESS, Decimal("1000")) == 2
        assert count("income", Operator.GREATER_EQUAL, 1000) == 1
        assert count("income", Operator.LESS_EQUAL, Decimal("85.50")) == 1
        assert count("members", Operator.GREATER, 9) == 1
        assert count("members", Operator.LESS_EQUAL, 9) == 2
        assert count("born", Operator.LESS, date(1991, 1, 1)) == 1
        assert count("born", Operator.GREATER_EQUAL, date(1991, 1, 1)) == 2


def test_several_choices_match_by_the_option_selected(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledger = residents(session)
        chosen = {
            ZHANG: ["dibao", "五保"],
            LI: ["dibao", "tekun"],
            "110101199003070038": [],
            "110101199003070054": None,
        }
        for key, aid in chosen.items():
            values = {"name": key[-4:]} | ({} if aid is None else {"aid": aid})
            write_values(session, ledger, key, None, values, None, "manual", NOW)

        def count(operator: Operator, *values: str) -> int:
            return count_matching(session, ledger, [Condition("aid", operator, values)])

        assert count(Operator.CONTAINS, "tekun") == 1
        assert count(Operator.CONTAINS, "dibao") == 2
        assert count(Operator.CONTAINS, "tekun", "dibao") == 2
        assert count(Operator.CONTAINS, "五保") == 1  # MariaDB keeps it as "\u4e94\u4fdd"
        assert count(Operator.NOT_CONTAINS, "tekun") == 3
        assert count(Operator.EMPTY) == 2
        assert count(Operator.PRESENT) == 2


@pytest.mark.parametrize(
    "condition",
    [
        Condition("nickname", Operator.EQUAL, ("小张",)),
        Condition("id_number", Operator.GREATER, (ZHANG,)),
        Condition("id_number", Operator.EQUAL, ("110102199101010079",)),
        Condition("id_number", Operator.CONTAINS, ("  ",)),
        Condition("id_number", Operator.EMPTY, (ZHANG,)),
        Condition("name", Operator.GREATER, ("张",)),
        Condition("members", Operator.CONTAINS, ("4",)),
        Condition("members", Operator.EQUAL, ("4",)),
        Condition("members", Operator.LESS, (4, 5)),
        Condition("members", Operator.EQUAL, ()),
        Condition("members", Operator.EMPTY, (4,)),
        Condition("gender", Operator.EQUAL, ("男",)),
        Condition("poor", Operator.GREATER, (True,)),
        Condition("aid", Operator.EQUAL, ("dibao",)),
        Condition("aid", Operator.CONTAINS, ("wubao",)),
    ],
)
def test_conditions_that_cannot_be_asked_are_refused(db: sessionmaker[Session], condition: Condition) -> None:
    with db.begin() as session:
        ledger = residents(session)
        with pytest.raises(ValueError):
            count_matching(session, ledger, [condition])


def test_id_numbers_and_mobiles_are_sensitive_unless_the_definition_says_otherwise(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        fields = [*FIELDS[:2], {**FIELDS[4], "sensitive": False}, {**FIELDS[1], "name": "nick", "label": "昵称",
                                                                   "sensitive": True}]  # fmt: skip
        ledger = residents(session, fields)
        assert [(field["name"], field["sensitive"]) for field in ledger.fields] == [
            ("id_number", True), ("name", False), ("mobile", False), ("nick", True)
        ]  # fmt: skip
        # A definition stored before fields had a sensitivity reads as the default.
        ledger.fields = [{key: value for key, value in field.items() if key != "sensitive"} for field in FIELDS]
        session.flush()
        session.expire(ledger)
        assert [field["name"] for field in ledger.fields if is_sensitive(field)] == ["id_number", "mobile", "spouse"]
        assert masked_value(ledger.fields[0], ZHANG) == "1101**********0078"
        assert masked_value(ledger.fields[1], "张德华") == "张德华"
        assert masked_value({**ledger.fields[1], "sensitive": True}, "张德华") == "张**"
        assert masked_value({**ledger.fields[8], "sensitive": True}, 4) == "***"
    with db.begin() as session, pytest.raises(ValueError, match="sensitive"):
        residents(session, [FIELDS[0], {**FIELDS[1], "sensitive": "yes"}])


def test_the_audit_copy_masks_a_field_marked_sensitive_and_any_number_in_free_text(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        note = {"name": "note", "label": "备注", "type": "text"}
        address = {"name": "address", "label": "住址", "type": "text", "sensitive": True}
        ledger = residents(session, [*FIELDS[:2], note, address])
        values = {"name": "张德华", "note": f"配偶{LI}，电话13908315526", "address": "松林村3组"}
        write_values(session, ledger, ZHANG, None, values, None, "manual", NOW)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_write")).one()
        assert entry.new == {"_source": "manual", "name": "张德华", "note": "配偶4401**********001X，电话139****5526",
                             "address": "松****"}  # fmt: skip


def test_conditions_on_the_key_test_the_key_column(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledger = residents(session)
        for key in (ZHANG, LI, WANG):
            write_values(session, ledger, key, None, {"name": key[-4:]}, None, "manual", NOW)

        def count(operator: Operator, *values: object) -> int:
            return count_matching(session, ledger, [Condition("id_number", operator, values)])

        assert count(Operator.EQUAL, ZHANG) == 1
        assert count(Operator.EQUAL, LI.lower()) == 1
        assert count(Operator.EQUAL, ZHANG, LI) == 2
        assert count(Operator.NOT_EQUAL, ZHANG) == 2
        assert count(Operator.CONTAINS, "1101021") == 2
        assert count(Operator.CONTAINS, "001x") == 1
        assert count(Operator.CONTAINS, "%") == 0  # a wildcard is a plain character
        assert count(Operator.NOT_CONTAINS, "1101021") == 1
        assert (count(Operator.EMPTY), count(Operator.PRESENT)) == (0, 3)


def test_records_that_left_their_unit_count_only_when_asked_for(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledger = residents(session)
        for key in (ZHANG, LI):
            write_values(session, ledger, key, None, {"name": key[-4:]}, None, "manual", NOW)
        get_record(session, ledger, LI).left_at = NOW
        session.flush()
        assert count_matching(session, ledger) == 1
        assert [record.key for record in find_matching(session, ledger)] == [ZHANG]
        assert count_matching(session, ledger, include_left=True) == 2
        assert len(list(find_matching(session, ledger, include_left=True))) == 2
