"""Writes the standard ledger workbooks: `python -m bot.demo.make_ledger_books` after changing a definition here.

Each standard ledger is written twice from one definition: handlers/ledgers/standard/ (台账 and 字段, read at
every start) and bot/demo/ledgers/ (the same with a 数据 sheet of demo records, loaded by `python -m bot demo`).
"""

from __future__ import annotations

from pathlib import Path

from ledger_store.ledger_book import LedgerBook, write_ledger_book

STANDARD_DIR = Path(__file__).parents[2] / "handlers" / "ledgers" / "standard"
DEMO_DIR = Path(__file__).parent / "ledgers"


def field(
    name: str,
    label: str,
    kind: str,
    *choices: str,
    required: bool = False,
    days: int | None = None,
    standard: str | None = None,
) -> dict:
    """One field definition as ledger_store.ledgers keeps it."""
    data = {
        "name": name,
        "label": label,
        "type": kind,
        "required": required,
        "choices": [{"value": c, "label": c} for c in choices],
        "validity_days": days,
        "sensitive": kind in ("id_number", "mobile"),
    }
    if standard:
        data["standard"] = standard
    return data  # fmt: skip


def book(
    code: str,
    title: str,
    board: str,
    kind: str,
    key: str,
    owner: str,
    fields: list[dict],
    rows: list[str],
    description: str,
    shares: tuple[tuple[str, bool], ...] = (),
) -> LedgerBook:
    """A standard ledger; `rows` are comma-separated demo rows, the first one the header."""
    table = [tuple(row.split(",")) for row in rows]
    data = tuple((number, cells) for number, cells in enumerate(table[1:], start=2))
    return LedgerBook(code, title, board, kind, key, owner, shares, description, tuple(fields), table[0], data)


BOOKS = (
    book("dibao_households", "低保对象台账", "民生服务", "person", "id_number", "区民政局", [
        field("id_number", "身份证号", "id_number", required=True),
        field("name", "姓名", "text", required=True, standard="name"),
        field("household_size", "家庭人口", "integer", days=365),
        field("monthly_income", "家庭月人均收入", "decimal", days=31),
        field("mobile", "联系电话", "mobile", days=365, standard="mobile"),
        field("category", "保障类别", "select_one", "A类", "B类", "C类"),
    ], [
        "身份证号,姓名,家庭人口,家庭月人均收入,联系电话,保障类别,单位",
        "500118196003138318,张德明,1,612.8,13159081935,A类,松林村",
        "500118197701172729,李秀兰,1,530,13619375836,B类,松林村",
        "500118195502185413,王建华,5,320,13394641177,C类,汉东村",
        "500118198010027308,赵桂芳,4,320,13316252221,A类,汉东村",
        "500118197503105330,陈永福,5,320,13951403729,B类,石庙村",
        "500118197511061307,刘淑珍,5,410.5,13523076910,C类,红旗社区",
        "500118197512037210,杨国强,5,410.5,13781366283,A类,萱花社区",
        "500118196706157486,周玉梅,3,486,13334127884,B类,凤凰湖社区",
    ], "在保低保对象，一人一条，按身份证号。"),
    book("disabled_people", "残疾人台账", "民生服务", "person", "id_number", "区残联", [
        field("id_number", "身份证号", "id_number", required=True),
        field("name", "姓名", "text", required=True, standard="name"),
        field("disability_kind", "残疾类别", "select_one", "视力", "听力", "言语", "肢体", "智力", "精神", "多重"),
        field("disability_grade", "残疾等级", "select_one", "一级", "二级", "三级", "四级"),
        field("subsidies", "享受补贴", "select_multiple", "困难残疾人生活补贴", "重度残疾人护理补贴"),
        field("mobile", "联系电话", "mobile", days=365, standard="mobile"),
        field("address", "现居住地址", "text", days=365, standard="address"),
    ], [
        "身份证号,姓名,残疾类别,残疾等级,享受补贴,联系电话,单位",
        "500118195803120218,刘大贵,肢体,二级,困难残疾人生活补贴,13594021736,松林村",
        "500118197209050447,陈小芳,视力,一级,困难残疾人生活补贴、重度残疾人护理补贴,15923061147,松林村",
        "500118198501170635,王德明,智力,三级,困难残疾人生活补贴,,松林村",
        "500118196607280825,赵桂英,听力,二级,重度残疾人护理补贴,18623095521,汉东村",
        "500118199012030150,周小兵,肢体,四级,困难残疾人生活补贴,,汉东村",
    ], "持证残疾人，一人一条，按身份证号。"),
    book("unit_profile", "村社区基本情况台账", "党的建设", "unit", "unit_name", "区民政局", [
        field("unit_name", "单位名称", "text", required=True),
        field("households", "户籍户数", "integer", days=365, standard="households"),
        field("population", "户籍人口", "integer", days=365, standard="population"),
        field("dibao_households", "在保低保户数", "integer", days=31),
        field("dibao_persons", "在保低保人数", "integer", days=31),
        field("secretary", "书记姓名", "text", days=365, standard="secretary"),
        field("office_phone", "书记手机号", "mobile", days=365, standard="secretary_mobile"),
    ], [
        "单位名称,户籍户数,户籍人口,在保低保户数,书记姓名,书记手机号",
        "松林村,356,1204,2,王建华,13983041276",
        "汉东村,412,1388,3,李春梅,13512867093",
        "石庙村,298,1011,,,",
    ], "每个村、社区一条：户数、人口、低保和书记。", shares=(("区残联", False),)),
    book("mediation_cases", "矛盾调解台账", "平安法治", "event", "case_no", "区司法局", [
        field("case_no", "案件编号", "text", required=True),
        field("registered_on", "登记日期", "date", required=True),
        field("parties", "当事人", "text", required=True),
        field("dispute_kind", "纠纷类型", "select_one", "婚姻家庭", "邻里纠纷", "土地承包", "劳动争议", "其他"),
        field("summary", "简要情况", "text"),
        field("outcome", "调解结果", "select_one", "调解中", "调解成功", "调解未成功", days=30),
    ], [
        "案件编号,登记日期,当事人,纠纷类型,简要情况,调解结果,单位",
        "TJ-20241105-001,2024-11-05,张某某与李某某,邻里纠纷,宅基地边界排水沟堵塞,调解成功,松林村",
        "TJ-20241112-001,2024-11-12,王某某与陈某某,土地承包,承包地界址争议,调解中,汉东村",
        "TJ-20241120-001,2024-11-20,刘某某与某物业公司,其他,楼道漏水维修费用分担,调解中,红旗社区",
    ], "矛盾纠纷一件一条，登记时生成案件编号。"),
    book("land_transfers", "土地流转台账", "经济发展", "parcel", "parcel_no", "区农业农村委", [
        field("parcel_no", "地块编码", "text", required=True),
        field("contractor_name", "承包方", "text", standard="contractor_name"),
        field("area_mu", "面积（亩）", "decimal", standard="area_mu"),
        field("location", "坐落", "text", standard="location"),
        field("transferee", "流入方", "text", days=365),
        field("transfer_mode", "流转方式", "select_one", "出租", "转包", "入股", "其他"),
        field("annual_rent", "年租金（元/亩）", "decimal", days=365),
        field("ends_on", "流转到期日", "date"),
    ], [
        "地块编码,承包方,面积（亩）,坐落,流入方,流转方式,年租金（元/亩）,流转到期日,单位",
        "500118101201JA00012,张德明,3.2,松林村三组,永川区绿源果蔬专业合作社,出租,600,2028-12-31,松林村",
        "500118101201JA00047,王建华,5.6,汉东村五组,重庆丰禾农业有限公司,入股,450,2030-06-30,汉东村",
        "500118101201JA00063,陈永福,2.1,石庙村二组,陈国平,转包,500,2026-02-28,石庙村",
    ], "承包地流转一块一条，按地块编码。"),
    book("fire_hazards", "消防隐患台账（除险清患）", "平安法治", "event", "hazard_no", "区应急局", [
        field("hazard_no", "隐患编号", "text", required=True),
        field("found_on", "发现日期", "date", required=True),
        field("place", "隐患地点", "text", required=True),
        field("hazard_kind", "隐患类型", "select_one", "电气线路", "燃气", "堵塞通道", "易燃物堆放", "其他"),
        field("status", "整改状态", "select_one", "未整改", "整改中", "已整改", days=30),
        field("responsible", "责任人", "text"),
        field("responsible_mobile", "责任人电话", "mobile"),
    ], [
        "隐患编号,发现日期,隐患地点,隐患类型,整改状态,责任人,责任人电话,单位",
        "XH-20241118-001,2024-11-18,红旗社区3栋楼道,堵塞通道,整改中,黄丽,18996357012,红旗社区",
        "XH-20241121-001,2024-11-21,萱花社区农贸市场,电气线路,未整改,吴敏,13752860493,萱花社区",
        "XH-20241125-001,2024-11-25,松林村村委会旁柴草堆,易燃物堆放,已整改,张德华,15823617730,松林村",
    ], "除险清患：消防隐患一处一条，发现时生成隐患编号。"),
)  # fmt: skip


def write_books(standard_dir: Path = STANDARD_DIR, demo_dir: Path = DEMO_DIR) -> list[Path]:
    """Write every standard ledger's definition workbook and its demo copy; returns the paths written."""
    written = []
    for number, ledger in enumerate(BOOKS, start=1):
        name = f"{number:02d}-{ledger.code}.xlsx"
        for folder, with_data in ((standard_dir, False), (demo_dir, True)):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(write_ledger_book(ledger, with_data=with_data))
            written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in write_books():
        print(path)
