"""Shared fields in the ledger store: one value per entity across the ledgers of its kind, one history, and a
fallback to the entity's other records only within the units a caller may see."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.ledgers import define_ledger, get_ledger, get_record, history, known_values, write_values
from ledger_store.models import AuditEntry, LedgerChange, OrgUnit

NOW = datetime(2024, 11, 28, 2, 0)
ZHANG = "110102199101010078"
LI = "44011320141005001X"
MOBILE, OTHER_MOBILE = "13908315526", "15823617730"


def choices(*values: str) -> list[dict[str, str]]:
    return [{"value": value, "label": value} for value in values]


PENSION = [
    {"name": "id_number", "label": "身份证号", "type": "id_number", "required": True},
    {"name": "name", "label": "姓名", "type": "text", "standard": "name"},
    {"name": "phone", "label": "联系电话", "type": "mobile", "validity_days": 30, "standard": "mobile"},
    {"name": "gender", "label": "性别", "type": "select_one", "choices": choices("男", "女"), "standard": "gender"},
]
VETERANS = [
    {"name": "id_number", "label": "身份证号", "type": "id_number", "required": True},
    {"name": "full_name", "label": "姓名", "type": "text", "standard": "name"},
    {"name": "mobile", "label": "手机号", "type": "mobile", "validity_days": 30, "standard": "mobile"},
    {"name": "sex", "label": "性别", "type": "select_one", "choices": choices("m", "f"), "standard": "gender"},
]
PLAIN = [  # a ledger about no entity kind: its 手机号 is its own
    {"name": "id_number", "label": "身份证号", "type": "id_number", "required": True},
    {"name": "mobile", "label": "手机号", "type": "mobile"},
]
HOUSEHOLDS = [  # another kind: a household's 联系电话 is not a person's
    {"name": "id_number", "label": "户主身份证号", "type": "id_number", "required": True},
    {"name": "mobile", "label": "联系电话", "type": "mobile", "standard": "mobile"},
]


def ledgers(session: Session, pension_fields: list[dict] = PENSION) -> tuple[int, int]:
    """The pension and veterans ledgers (people), a plain one and a household one; two villages' ids."""
    define_ledger(session, "pension", "养老金台账", "id_number", pension_fields, NOW, entity_kind="person")
    define_ledger(session, "veterans", "退役军人台账", "id_number", VETERANS, NOW, entity_kind="person")
    define_ledger(session, "plain", "普通台账", "id_number", PLAIN, NOW)
    define_ledger(session, "households", "农户台账", "id_number", HOUSEHOLDS, NOW, entity_kind="household")
    songlin, handong = OrgUnit(name="松林村", level="village"), OrgUnit(name="汉东村", level="village")
    session.add_all([songlin, handong])
    session.flush()
    return songlin.id, handong.id


def write(session: Session, code: str, key: str, values: dict, at: datetime = NOW, **options) -> list[str]:
    return write_values(session, get_ledger(session, code), key, None, values, None, "manual", at, **options)


def values(session: Session, code: str, key: str) -> dict | None:
    record = get_record(session, get_ledger(session, code), key)
    return None if record is None else dict(record.values)


def test_a_write_carries_shared_values_and_their_time_to_the_persons_record_in_another_ledger(
    db: sessionmaker[Session],
) -> None:
    with db.begin() as session:
        songlin, _ = ledgers(session)
        write(session, "veterans", ZHANG, {"full_name": "张三", "mobile": OTHER_MOBILE}, unit_if_new=songlin)
        write(session, "pension", ZHANG, {"name": "张三", "phone": MOBILE}, at=NOW + timedelta(days=1))
        assert values(session, "veterans", ZHANG) == {"full_name": "张三", "mobile": MOBILE}
        veterans = get_ledger(session, "veterans")
        assert known_values(session, veterans, ZHANG, NOW)["mobile"].confirmed_at == NOW + timedelta(days=1)
        assert get_record(session, veterans, ZHANG).org_unit_id == songlin  # the other record stays where it was
        # one history row, in the record written; the audit entry names where the value also went
        assert session.scalar(select(func.count()).where(LedgerChange.field_name.in_(["phone", "mobile"]))) == 2
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_write")).all()[-1]
        assert entry.new["_shared_to"] == ["veterans"] and entry.new["phone"] == "139****5526"
        # a value confirmed unchanged 40 days later is fresh again in both ledgers
        later = NOW + timedelta(days=40)
        assert not known_values(session, veterans, ZHANG, later)["mobile"].fresh
        assert write(session, "pension", ZHANG, {"phone": MOBILE}, at=later) == []
        assert known_values(session, veterans, ZHANG, later)["mobile"].fresh


def test_the_history_of_a_shared_field_is_one_across_ledgers_oldest_first(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledgers(session)
        write(session, "veterans", ZHANG, {"full_name": "张三", "mobile": OTHER_MOBILE})
        write(session, "pension", ZHANG, {"phone": MOBILE}, at=NOW + timedelta(days=1))
        write(session, "veterans", ZHANG, {"mobile": OTHER_MOBILE}, at=NOW + timedelta(days=2))
        # each row as its record saw it: the pension record was new, so its first row starts from nothing
        expected = [(None, OTHER_MOBILE), (None, MOBILE), (MOBILE, OTHER_MOBILE)]
        pension = [(c.field, c.old, c.new) for c in history(session, get_ledger(session, "pension"), ZHANG, "phone")]
        assert pension == [("phone", old, new) for old, new in expected]
        veterans = history(session, get_ledger(session, "veterans"), ZHANG, "mobile")
        assert [(c.field, c.old, c.new) for c in veterans] == [("mobile", old, new) for old, new in expected]
        assert [c.field for c in history(session, get_ledger(session, "pension"), ZHANG)] == ["phone"]


def test_only_existing_records_of_the_same_kind_take_it(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledgers(session)
        write(session, "plain", ZHANG, {"mobile": OTHER_MOBILE})
        write(session, "households", ZHANG, {"mobile": OTHER_MOBILE})
        write(session, "pension", ZHANG, {"name": "张三", "phone": MOBILE})
        assert values(session, "veterans", ZHANG) is None
        assert values(session, "plain", ZHANG) == values(session, "households", ZHANG) == {"mobile": OTHER_MOBILE}


def test_a_value_the_other_field_cannot_hold_is_not_carried(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledgers(session)
        write(session, "veterans", ZHANG, {"full_name": "张三", "sex": "m"})
        write(session, "pension", ZHANG, {"name": "张山", "gender": "女"})
        assert values(session, "veterans", ZHANG) == {"full_name": "张山", "sex": "m"}


def test_clearing_a_shared_value_clears_it_in_the_other_record(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        ledgers(session)
        write(session, "veterans", ZHANG, {"full_name": "张三", "mobile": MOBILE})
        write(session, "pension", ZHANG, {"name": "张三", "phone": MOBILE})
        write(session, "pension", ZHANG, {"phone": None})
        assert values(session, "veterans", ZHANG) == {"full_name": "张三"}


def test_a_write_limited_to_units_leaves_the_persons_record_in_another_unit_alone(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        songlin, handong = ledgers(session)
        write(session, "veterans", ZHANG, {"full_name": "张三", "mobile": OTHER_MOBILE}, unit_if_new=songlin)
        write(session, "pension", ZHANG, {"phone": MOBILE}, unit_if_new=handong, units={handong})
        assert values(session, "veterans", ZHANG)["mobile"] == OTHER_MOBILE
        write(session, "pension", ZHANG, {"phone": MOBILE}, units={handong, songlin})
        assert values(session, "veterans", ZHANG)["mobile"] == MOBILE


def test_known_values_fall_back_to_the_persons_other_record_only_in_the_callers_units(
    db: sessionmaker[Session],
) -> None:
    with db.begin() as session:
        songlin, handong = ledgers(session)
        write(session, "veterans", ZHANG, {"full_name": "张三", "mobile": MOBILE, "sex": "m"}, unit_if_new=songlin)
        pension = get_ledger(session, "pension")
        assert known_values(session, pension, ZHANG, NOW) == {}  # no units: this ledger's record only
        assert known_values(session, pension, ZHANG, NOW, {handong}) == {}
        known = known_values(session, pension, ZHANG, NOW + timedelta(days=31), {songlin})
        assert {name: (value.value, value.fresh) for name, value in known.items()} == {
            "name": ("张三", True), "phone": (MOBILE, False),  # stale by this ledger's validity; sex m is no 性别 here
        }  # fmt: skip
        # a record of its own lacking a shared value takes it from the sibling; one it holds is its own
        write(session, "pension", LI, {"name": "李四"}, unit_if_new=songlin)
        write(session, "veterans", LI, {"full_name": "李思", "mobile": OTHER_MOBILE}, unit_if_new=songlin, units=set())
        known = known_values(session, pension, LI, NOW, {songlin})
        assert (known["name"].value, known["phone"].value) == ("李四", OTHER_MOBILE)


def test_a_field_made_shared_later_changes_nothing_at_once_and_is_shared_from_then_on(
    db: sessionmaker[Session],
) -> None:
    with db.begin() as session:
        unshared = [{key: value for key, value in field.items() if key != "standard"} for field in PENSION]
        songlin, _ = ledgers(session, unshared)
        write(session, "pension", ZHANG, {"name": "张三", "phone": MOBILE}, unit_if_new=songlin)
        write(session, "veterans", ZHANG, {"full_name": "张三", "mobile": OTHER_MOBILE}, unit_if_new=songlin)
        assert values(session, "pension", ZHANG)["phone"] == MOBILE
        pension = define_ledger(session, "pension", "养老金台账", "id_number", PENSION, NOW)
        assert pension.entity_kind == "person" and pension.version == 2
        assert values(session, "pension", ZHANG)["phone"] == MOBILE  # no reconciliation on define
        write(session, "veterans", ZHANG, {"mobile": OTHER_MOBILE})
        assert values(session, "pension", ZHANG)["phone"] == OTHER_MOBILE
