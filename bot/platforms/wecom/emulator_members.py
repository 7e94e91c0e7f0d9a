"""Playing WeCom members: messages, files and card clicks encrypted and posted to the bot as WeCom does."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import requests
from wechatpy.enterprise.crypto import WeChatCrypto

if TYPE_CHECKING:
    from bot.platforms.emulator_server import GeneratedFile

CALLBACK_TIMEOUT = 5


class MemberPlayer:
    """The member half of the emulator, mixed into WeComEmulator, whose state (settings, clock, members,
    inboxes, cards, media, lock) it uses."""

    def member_says(self, userid: str, text: str, msg_id: str | None = None) -> requests.Response:
        """Post a text message from a member to the bot's callback, encrypted and signed as WeCom does."""
        msg_id = escape(msg_id) if msg_id is not None else str(next(self._msg_ids))
        fields = f"<MsgType>{_cdata('text')}</MsgType><Content>{_cdata(text)}</Content><MsgId>{msg_id}</MsgId>"
        return self._post_callback(userid, fields)

    def member_sends_file(self, userid: str, data: bytes | GeneratedFile, name: str) -> requests.Response:
        """Post a file message (MediaId, FileName) from a member; the file can be fetched with media/get.

        WeCom's callback docs list no file message for self-built apps: this is the shape SDKs that handle one parse.
        """
        media_id = self.put_media(data, name)
        fields = (
            f"<MsgType>{_cdata('file')}</MsgType><MediaId>{_cdata(media_id)}</MediaId>"
            f"<FileName>{_cdata(name)}</FileName><MsgId>{next(self._msg_ids)}</MsgId>"
        )
        return self._post_callback(userid, fields)

    def member_clicks_card(
        self,
        userid: str,
        task_id: str,
        event_key: str,
        response_code: str | None = None,
        selected: dict[str, list[str] | str] | None = None,
    ) -> requests.Response:
        """Post a template_card_event: a button click, or a vote/multiple card submitted with question -> options."""
        canonical = self._member(userid)
        with self._lock:
            card = self._cards.get(task_id)
            if card is None or canonical not in card["recipients"]:
                raise ValueError(f"{canonical} never received a card with task_id {task_id!r}")
            if canonical in card["closed"]:
                raise ValueError(f"card {task_id!r} was already updated for {canonical}: it has no buttons left")
            response_code = self._issue_response_code(task_id, response_code)
        fields = (
            f"<MsgType>{_cdata('event')}</MsgType><Event>{_cdata('template_card_event')}</Event>"
            f"<EventKey>{_cdata(event_key)}</EventKey><TaskId>{_cdata(task_id)}</TaskId>"
            f"<CardType>{_cdata(card['card_type'])}</CardType><ResponseCode>{_cdata(response_code)}</ResponseCode>"
        )
        items = "".join(
            f"<SelectedItem><QuestionKey>{_cdata(question)}</QuestionKey><OptionIds>"
            + "".join(f"<OptionId>{_cdata(o)}</OptionId>" for o in ([options] if isinstance(options, str) else options))
            + "</OptionIds></SelectedItem>"
            for question, options in (selected or {}).items()
        )
        return self._post_callback(canonical, fields, f"<SelectedItems>{items}</SelectedItems>" if selected else "")

    def verify_callback_url(self, echo: str | None = None) -> requests.Response:
        """Do WeCom's GET URL check with an encrypted echostr; the bot must answer with `echo` (kept in last_echo)."""
        self.last_echo = echo or str(secrets.randbelow(10**19))
        timestamp, nonce = str(int(self.clock())), str(secrets.randbelow(10**10))
        sealed = ElementTree.fromstring(self._crypto().encrypt_message(self.last_echo, nonce, timestamp))
        params = {"msg_signature": sealed.findtext("MsgSignature"), "timestamp": timestamp, "nonce": nonce}
        params["echostr"] = sealed.findtext("Encrypt") or ""
        return requests.get(self._callback_url(), params=params, timeout=CALLBACK_TIMEOUT)

    def resend_last_callback(self) -> requests.Response:
        """Post the last callback again byte for byte, as WeCom retries when the bot was slow or failed."""
        if self._last_callback is None:
            raise RuntimeError("no callback has been posted yet")
        return self._deliver_callback(*self._last_callback)

    def _post_callback(self, userid: str, fields: str, tail: str = "") -> requests.Response:
        settings, canonical = self.settings, self._member(userid)
        plaintext = (
            f"<xml><ToUserName>{_cdata(settings.corp_id)}</ToUserName><FromUserName>{_cdata(canonical)}"
            f"</FromUserName><CreateTime>{int(self.clock())}</CreateTime>{fields}"
            f"<AgentID>{settings.agent_id}</AgentID>{tail}</xml>"
        )
        timestamp, nonce = str(int(self.clock())), str(secrets.randbelow(10**10))
        sealed = ElementTree.fromstring(self._crypto().encrypt_message(plaintext, nonce, timestamp))
        envelope = (
            f"<xml><ToUserName>{_cdata(settings.corp_id)}</ToUserName><Encrypt>{_cdata(sealed.findtext('Encrypt'))}"
            f"</Encrypt><AgentID>{_cdata(str(settings.agent_id))}</AgentID></xml>"
        )
        params = {"msg_signature": sealed.findtext("MsgSignature") or "", "timestamp": timestamp, "nonce": nonce}
        self._last_callback = (canonical, params, envelope.encode())
        return self._deliver_callback(canonical, params, envelope.encode())

    def _deliver_callback(self, userid: str, params: dict[str, str], body: bytes) -> requests.Response:
        response = requests.post(
            self._callback_url(),
            params=params,
            data=body,
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=CALLBACK_TIMEOUT,
        )
        if response.status_code == 200 and response.content.strip():
            self._accept_passive_reply(userid, response.content)
        return response

    def _accept_passive_reply(self, userid: str, body: bytes) -> None:
        """Show an encrypted passive reply to the member, as WeCom does; anything undecryptable is recorded."""
        try:
            sealed = ElementTree.fromstring(body)
            signature, timestamp, nonce = (sealed.findtext(k) for k in ("MsgSignature", "TimeStamp", "Nonce"))
            message = ElementTree.fromstring(self._crypto().decrypt_message(body, signature, timestamp, nonce))
        except Exception as error:  # a malformed reply is the bot's bug: keep it for the test to see, do not crash
            self.callback_errors.append(f"passive reply to {userid} not accepted: {error!r}")
            return
        msgtype = message.findtext("MsgType") or ""
        payload = {"content": message.findtext("Content")} if msgtype == "text" else {c.tag: c.text for c in message}
        with self._lock:
            self._inboxes[userid].append({"msgtype": msgtype, msgtype: payload, "passive": True})

    def _member(self, userid: str) -> str:
        canonical = self._canonical(userid)
        if canonical is None:
            raise ValueError(f"{userid} is not a member of this corp: seed it with add_member() first")
        return canonical

    def _callback_url(self) -> str:
        if not self.settings.callback_url:
            raise RuntimeError("EmulatorSettings.callback_url is not set: where should the member's message go?")
        return self.settings.callback_url

    def _crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.settings.token, self.settings.encoding_aes_key, self.settings.corp_id)


def _cdata(text: str | None) -> str:
    return "<![CDATA[" + (text or "").replace("]]>", "]]]]><![CDATA[>") + "]]>"
