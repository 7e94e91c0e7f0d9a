"""Files both ways on DingTalk, over loopback: the bot uploads summaries and exports and sends them by batch send;
a person's file is resolved from its downloadCode and fetched (streamed, capped, https only) before it is handled,
exactly as on WeCom. Real workbooks, written and read back with openpyxl."""

# ruff: noqa: F811  (the `ding` fixture is imported from test_dingtalk, and tests take it by that name)

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask, Response, redirect, request
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from werkzeug.serving import make_server

from bot.platforms.base import MAX_FILE_BYTES, DeliveryError, Outgoing, Recipient
from bot.platforms.dingtalk import errors
from bot.platforms.dingtalk.api import TOKEN_HEADER, DingTalkApiError
from bot.platforms.dingtalk.emulator_cli import HELP, run_console
from bot.platforms.dingtalk.platform import fetchable
from bot.platforms.emulator_server import GeneratedFile
from handlers.texts.commands import INTERNAL_ERROR, UNKNOWN_MESSAGE_TYPE
from handlers.texts.files import file_too_large
from ledger_store.models import Form, InboundMessage, InboundStatus
from tests.test_dingtalk import DingTalkWorld, callback_body, ding, signed  # noqa: F401
from tests.test_form_import import SURVEY, workbook
from tests.test_upload_limits import peak_memory

MB = 1 << 20


def sends_file(world: DingTalkWorld, account: str, data: bytes | GeneratedFile, name: str, **options) -> list[dict]:
    """A member sends the robot a file; what that member received afterwards."""
    response = world.emulator.member_sends_file(f"dt_{account}", data, name, **options)
    assert response.status_code == 200
    world.settle()
    return world.take(account)


def texts(received: list[dict]) -> list[str]:
    return [message["text"] for message in received if "file_bytes" not in message]


def test_a_summary_workbook_reaches_a_dingtalk_member_as_a_file_that_opens(ding):
    ding.say("li_minzheng", "/发布 低保月报 截止 后天18点 范围 松林村 不审核")
    received = ding.say("li_minzheng", "/汇总 1")
    [answer] = [message for message in received if message["text"].startswith("正在生成《低保月报》汇总表")]
    assert answer["via"] == "webhook"
    [file] = [message for message in received if "file_bytes" in message]
    assert file["via"] == "batch" and file["file_name"].startswith("低保月报汇总_任务1_")
    assert file["file_name"].endswith(".xlsx")
    book = load_workbook(io.BytesIO(file["file_bytes"]))
    assert book.sheetnames and book.active.max_row >= 1
    [sent] = [batch for batch in ding.emulator.batches if batch["msgKey"] == "sampleFile"]
    assert '"fileType": "xlsx"' in sent["msgParam"] and '"mediaId": "@' in sent["msgParam"]


def test_a_text_with_a_file_goes_as_text_then_file_and_a_reply_s_file_follows_its_webhook_text(ding):
    platform = ding.runtime.platforms["dingtalk"]
    message = Outgoing(text="汇总表见附件", file_name="汇总.xlsx", file_bytes=a_workbook("合计"), file_key="f1")
    platform.send([Recipient("dt_zhang_dehua", "push:1")], message)
    assert [(m["via"], m["text"]) for m in ding.take("zhang_dehua")] == [
        ("batch", "汇总表见附件"),
        ("batch", "[文件] 汇总.xlsx"),
    ]

    ding.say("zhang_dehua", "帮助")  # a one-to-one message: its sessionWebhook is remembered
    platform.send([Recipient("dt_zhang_dehua", "reply:9")], replace_key(message, "f2"))
    assert [(m["via"], m["text"]) for m in ding.take("zhang_dehua")] == [
        ("webhook", "汇总表见附件"),
        ("batch", "[文件] 汇总.xlsx"),
    ]


def test_a_resend_reuses_the_upload_and_a_dropped_upload_is_made_again(ding):
    platform = ding.runtime.platforms["dingtalk"]
    message = Outgoing(file_name="台账导出.xlsx", file_bytes=a_workbook("导出"), file_key="export:7")
    to_zhang = [Recipient("dt_zhang_dehua", "push:7")]
    platform.send(to_zhang, message)
    platform.send(to_zhang, message)  # the outbox tries the same push again
    assert ding.emulator.calls.count("upload") == 1
    platform.send(to_zhang, replace_key(message, "export:8"))  # the same bytes pushed anew: a new upload
    assert ding.emulator.calls.count("upload") == 2

    ding.emulator.drop_uploads()
    with pytest.raises(DeliveryError):
        platform.send(to_zhang, message)
    platform.send(to_zhang, message)  # the failed send forgot the upload: this one uploads afresh
    assert ding.emulator.calls.count("upload") == 3
    files = [m for m in ding.take("zhang_dehua") if "file_bytes" in m]
    assert len(files) == 4 and load_workbook(io.BytesIO(files[-1]["file_bytes"]))["Sheet"]["A1"].value == "导出"


def test_an_upload_failure_is_a_structured_delivery_error_and_nothing_goes_out(ding):
    platform = ding.runtime.platforms["dingtalk"]
    ding.emulator.fail_next("upload", 200, "40035")
    with pytest.raises(DeliveryError) as caught:
        platform.send(
            [Recipient("dt_zhang_dehua", "push:1")], Outgoing(text="附件", file_name="a.xlsx", file_bytes=b"PK")
        )
    error = caught.value
    assert (error.retry, error.reason, error.code) == (True, errors.upload_failed("40035"), "dingtalk:40035")
    assert "错误码 40035" in error.reason and ding.take("zhang_dehua") == []  # not the text before the file either


def test_an_upload_with_a_refused_token_fetches_a_new_one(ding):
    platform = ding.runtime.platforms["dingtalk"]
    platform.send([Recipient("dt_zhang_dehua", "push:1")], Outgoing(text="先取令牌"))
    ding.emulator.expire_tokens()
    platform.send([Recipient("dt_zhang_dehua", "push:2")], Outgoing(file_name="b.xlsx", file_bytes=b"PK\x03\x04"))
    assert ding.emulator.calls.count("token") == 2 and ding.take("zhang_dehua")[-1]["file_bytes"] == b"PK\x03\x04"


def test_a_form_template_sent_as_a_file_is_imported_as_on_wecom(ding):
    form = workbook()
    [reply] = texts(sends_file(ding, "li_minzheng", form, "防返贫监测.xlsx"))
    assert reply.startswith("已导入表单《防返贫监测月报》（第1版，共3项）")
    issued = ding.say("li_minzheng", "/发布 防返贫监测月报 截止 后天18点 范围 松林村")
    assert "已发布《防返贫监测月报》" in issued[0]["text"]
    with ding.runtime.factory() as session:
        stored = session.scalar(select(InboundMessage).where(InboundMessage.file_id.is_not(None)))
        assert stored.file.name == "防返贫监测.xlsx" and stored.file.content == form
    assert "file" in ding.emulator.calls and "file_url" in ding.emulator.calls


def test_a_broken_form_gets_the_row_by_row_error_list_and_nothing_is_stored(ding):
    broken = [SURVEY[0], ["整数", "households", "监测户数", "", "是"], ["integr", "people", "人数", "", "是"]]
    [reply] = texts(sends_file(ding, "li_minzheng", workbook(survey=broken), "broken.xlsx"))
    assert reply.startswith("表单有 1 处问题，没有导入")
    assert "survey 表第 3 行" in reply and "integer" in reply
    with ding.runtime.factory() as session:
        assert session.scalar(select(Form).where(Form.code == "fanpin_monthly")) is None


def test_a_file_over_20_mb_is_refused_in_chinese_without_being_held(ding):
    ding.say("zhang_dehua", "帮助")  # the access token is fetched now, so only the download is measured
    huge = GeneratedFile(3 << 30, declared=False)
    received, peak = peak_memory(lambda: sends_file(ding, "zhang_dehua", huge, "台账.xlsx"))
    assert texts(received) == [file_too_large(MAX_FILE_BYTES)]
    assert "20 MB" in texts(received)[0]
    # Reading stopped soon after the cap; the emulator's werkzeug server (in this process too) may add the 10 MB
    # buffer it drains a dropped connection with.
    assert peak < 35 * MB and huge.served < 100 * MB
    with ding.runtime.factory() as session:
        [row] = [row for row in session.scalars(select(InboundMessage)) if row.payload.get("media_id")]
        assert (row.status, row.attempts, row.file_id) == (InboundStatus.DONE, 0, None)

    declared = GeneratedFile(MAX_FILE_BYTES + 1)
    assert texts(sends_file(ding, "zhang_dehua", declared, "大表.xlsx")) == [file_too_large(MAX_FILE_BYTES)]
    assert declared.served < MAX_FILE_BYTES  # refused on its Content-Length


@pytest.fixture
def elsewhere() -> Iterator[tuple[str, list[str]]]:
    """A plain-http server on loopback that is neither DingTalk nor the configured api host; it counts its hits."""
    hits: list[str] = []
    app = Flask(__name__)

    @app.get("/<path:path>")
    def anything(path: str) -> Response:
        hits.append(f"{path}?{request.query_string.decode()} {request.headers.get(TOKEN_HEADER, '')}".strip())
        if path == "moved":
            return redirect("/intranet-page")
        return Response("secret of the intranet")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()


def test_a_download_url_on_an_unexpected_host_is_not_fetched(ding, elsewhere):
    url, hits = elsewhere
    ding.emulator.download_base_url = url
    [apology] = sends_file(ding, "li_minzheng", workbook(), "表.xlsx")  # refused for good: not tried again
    assert apology["text"] == INTERNAL_ERROR
    with ding.runtime.factory() as session:
        row = session.scalar(select(InboundMessage))
        assert (row.status, row.attempts, row.file_id) == (InboundStatus.FAILED, 1, None)
    with pytest.raises(DeliveryError) as caught:
        ding.runtime.platforms["dingtalk"].download(row.payload["media_id"])
    assert (caught.value.retry, caught.value.reason) == (False, errors.FILE_URL_REFUSED)
    assert hits == [] and "file" not in ding.emulator.calls


def test_a_download_follows_no_redirect_and_carries_no_token(ding, elsewhere):
    url, hits = elsewhere
    client = ding.runtime.platforms["dingtalk"].client
    client.access_token()
    with pytest.raises(DingTalkApiError) as caught:
        client.fetch_file(f"{url}/moved")
    assert caught.value.code == "HTTP302" and hits == ["moved?"]  # /intranet-page was never asked for


def test_the_download_rule_is_https_or_the_configured_api_host():
    api = "http://127.0.0.1:8001"
    assert fetchable("https://static.dingtalk.com/file/a.xlsx?sign=1", "https://api.dingtalk.com")
    assert fetchable("http://127.0.0.1:8001/emulated-files/k", api)
    assert not fetchable("http://127.0.0.1:8002/emulated-files/k", api)
    assert not fetchable("http://169.254.169.254/latest/meta-data", "https://api.dingtalk.com")
    assert not fetchable("http://127.0.0.1:8001@evil.example/x", api)
    assert not fetchable("https://user@files.example/x", "https://api.dingtalk.com")
    assert not fetchable("file:///etc/passwd", "https://api.dingtalk.com")


def test_a_file_in_a_group_or_a_picture_keeps_the_unsupported_answer(ding):
    received = sends_file(ding, "zhang_dehua", workbook(), "表.xlsx", conversation_type="2")
    assert texts(received) == [UNKNOWN_MESSAGE_TYPE]
    now_ms = int(ding.clock.now().timestamp() * 1000)
    picture = callback_body(ding, msgtype="picture", content={"downloadCode": "dc1"}, msgId="msgPICTURE")
    assert ding.emulator.post_callback(signed(now_ms), picture).status_code == 200
    ding.settle()
    assert texts(ding.take("zhang_dehua")) == [UNKNOWN_MESSAGE_TYPE]
    assert "file_url" not in ding.emulator.calls  # a robot gets files one-to-one only: nothing was downloaded


def a_workbook(first_cell: str) -> bytes:
    """A one-sheet workbook whose A1 holds `first_cell`."""
    book = Workbook()
    book.active["A1"] = first_cell
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def replace_key(message: Outgoing, file_key: str) -> Outgoing:
    return replace(message, file_key=file_key)


def test_the_fake_dingtalk_console_sends_a_file_as_a_member(ding, tmp_path):
    form = tmp_path / "防返贫监测.xlsx"
    form.write_bytes(workbook())
    worker = ding.app.extensions["worker"]
    worker.start()  # as serve runs it: the callback's kick wakes the worker, which answers
    out = io.StringIO()
    try:
        run_console(ding.emulator, [f":file @dt_li_minzheng {form}", f":file @dt_li_minzheng {tmp_path}/无.xlsx"], out)
    finally:
        worker.stop()

    shown = out.getvalue()
    assert "→ dt_li_minzheng（会话回复）：已导入表单《防返贫监测月报》（第1版，共3项）" in shown
    assert "找不到文件" in shown and ":file @钉钉账号 文件路径" in HELP
