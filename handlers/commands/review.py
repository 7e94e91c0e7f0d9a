"""/审核 and a reviewer's words: 通过, 退回 [第N题 …] 原因, 全部通过 (after a confirmation), 下一份, and the
buttons of a review request.

/审核 lists what waits on the speaker, oldest first, and shows the first in full; while that list is being worked
through (ChatFocus.pending kind "review") each decision shows the next. Outside it, 通过 or 退回 answer the one
submission waiting on the speaker; with several, the speaker is sent to /审核. A button names its step, so a press
on a submission already decided is declined.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.conversation import machine
from handlers.core.context import Context
from handlers.core.numbers import typed_id
from handlers.core.words import fold
from handlers.forms.form_state import question_numbers
from handlers.forms.registry import fields_of
from handlers.review import flow
from handlers.review.requests import request_text
from handlers.texts import review as t
from handlers.texts.reporting import task_name
from ledger_store.models import ChatFocus, Person, ReviewStep
from ledger_store.org import unit_path

PENDING_KIND = "review"
LISTED = 10
QUESTIONS = re.compile(r"第?\s*(?P<numbers>\d+(?:\s*[、,，和及]\s*第?\s*\d+)*)\s*题")
TRIM = " ，,；;。:：、"


def review(ctx: Context, person: Person, args: str) -> list[str]:
    """/审核: everything waiting on the speaker, oldest first, and the first one in full."""
    steps = flow.waiting_for(ctx, person)
    if not steps:
        machine.focus_of(ctx, person).pending = None
        return [t.NOTHING_TO_REVIEW]
    machine.focus_of(ctx, person).pending = {"kind": PENDING_KIND, "queue": [step.id for step in steps]}
    lines = [t.review_list(len(steps), min(len(steps), LISTED))]
    for number, step in enumerate(steps[:LISTED], start=1):
        lines.append(list_line(ctx, number, step))
    return ["\n".join(lines) + "\n\n" + show(ctx, steps[0], len(steps) > 1)]


def list_line(ctx: Context, number: int, step: ReviewStep) -> str:
    """One line of the /审核 list."""
    task = step.assignment.task
    minutes = int((ctx.now() - step.submitted_at).total_seconds() // 60)
    kind = t.STATE_REVIEWING if step.stage == 0 else t.STATE_ACCEPTING
    unit = step.assignment.org_unit.name
    return t.review_list_line(number, unit, task_name(task.title, task.id), t.waited(minutes), kind)


def show(ctx: Context, step: ReviewStep, several: bool) -> str:
    """One request in full, with the words for working through a list when there are several."""
    footer = t.REQUEST_FOOTER_MANY if several else t.REQUEST_FOOTER
    return request_text(ctx, step, flow.previous_round(ctx, step), footer)


def answer(ctx: Context, person: Person, typed: str, in_form: bool) -> list[str] | None:
    """A reviewer's word, or None when the message is not one (it is then handled as if this did not exist)."""
    text = fold(typed)
    focus = ctx.session.get(ChatFocus, person.id)
    pending = focus.pending if focus is not None and (focus.pending or {}).get("kind") == PENDING_KIND else None
    if pending is not None and pending.get("reason_for"):
        if text.startswith("/"):
            pending = {**pending, "reason_for": None}
            focus.pending = pending
            return None
        step = ctx.session.get(ReviewStep, pending["reason_for"])
        listing = bool(pending.get("queue"))  # a press while working through /审核: the next one follows
        focus.pending = {**pending, "reason_for": None} if listing else None
        if step is None:
            return [t.STALE_REVIEW_BUTTON]
        return [decide_return(ctx, person, step, typed, focus if listing else None)]
    if pending is not None and pending.get("confirm_all"):
        focus.pending = {**pending, "confirm_all": False}
        if text in t.CONFIRM_WORDS:
            return [approve_all(ctx, person, pending["queue"], focus)]
        return [t.APPROVE_ALL_CANCELLED]
    if pending is None and in_form:
        return None
    is_word = text in t.APPROVE_WORDS or text in t.APPROVE_ALL_WORDS or text.startswith(t.RETURN_WORD)
    if pending is not None:
        if text in t.STOP_WORDS and not in_form:
            focus.pending = None
            return [t.REVIEW_STOPPED]
        if text in t.NEXT_WORDS:
            return [next_in_queue(ctx, person, focus, skip=True)]
        if not is_word:
            return None
        queue = flow.waiting_ids(ctx, person, pending["queue"])
        if not queue:
            focus.pending = None
            return [t.REVIEW_DONE]
        if text in t.APPROVE_ALL_WORDS:
            focus.pending = {"kind": PENDING_KIND, "queue": queue, "confirm_all": True}
            return [t.approve_all_question(len(queue))]
        shown = ctx.session.get(ReviewStep, pending["queue"][0])
        if shown is None or shown.id not in queue:
            # The one on the speaker's screen was decided meanwhile (by another reviewer): say by whom and show the
            # next, never decide one the speaker has not seen.
            said = flow.too_late(ctx, shown) if shown is not None and shown.decision else t.STALE_REVIEW_BUTTON
            return [said + "\n\n" + next_in_queue(ctx, person, focus)]
        return [decide(ctx, person, shown, typed, text, focus)]
    if not is_word:
        return None
    if text in t.APPROVE_ALL_WORDS:
        return [t.APPROVE_ALL_NEEDS_LIST] if flow.reach(person) else None
    waiting = flow.waiting_ids(ctx, person)  # ids only: a department may have thousands waiting
    if not waiting:
        if not flow.reach(person):
            return None  # not a reviewer: the word is an ordinary message
        # Another reviewer may have decided it a moment before: say who, rather than treat the word as an answer.
        decided = flow.last_decided(ctx, person)
        if decided is not None and decided.decided_by_id != person.id:
            return [flow.too_late(ctx, decided)]
        return [t.NOTHING_TO_REVIEW]
    if len(waiting) > 1:
        return [t.ONE_OF_SEVERAL]
    return [decide(ctx, person, ctx.session.get(ReviewStep, waiting[0]), typed, text, None)]


def decide(ctx: Context, person: Person, step: ReviewStep, typed: str, text: str, focus: ChatFocus | None) -> str:
    """通过 or 退回 … on one step; in a /审核 list, the next one follows."""
    if text in t.APPROVE_WORDS:
        reply = flow.approve(ctx, person, step)
        return reply if focus is None else reply + "\n\n" + next_in_queue(ctx, person, focus)
    return decide_return(ctx, person, step, typed.strip()[len(t.RETURN_WORD) :], focus)


def decide_return(ctx: Context, person: Person, step: ReviewStep, words: str, focus: ChatFocus | None) -> str:
    """退回 第3题 第5题 原因: the reasons as typed, the questions by their numbers."""
    fields = fields_of(step.assignment.task.form_version)
    numbers = question_numbers(fields)
    by_number = {number: name for name, number in numbers.items()}
    wanted: list[int] = []
    # Read in the text as typed (\d and int() take full-width digits too), so the reason keeps its ，and ：.
    for found in QUESTIONS.finditer(words):
        wanted += [int(n) for n in re.findall(r"\d+", found.group("numbers"))]
    reason = QUESTIONS.sub(" ", words) if wanted else words
    reason = " ".join(reason.split()).strip(TRIM)
    unknown = [str(n) for n in wanted if n not in by_number]
    if unknown:
        return t.bad_question_numbers([f"第{n}" for n in unknown], len(numbers))
    if not reason:
        return t.RETURN_NEEDS_REASON
    if not flow.may_decide(ctx, person, step):
        return t.NOT_YOUR_REVIEW
    reopened = [by_number[n] for n in sorted(set(wanted))]
    reply = flow.return_step(ctx, person, step, reason, reopened)
    return reply if focus is None else reply + "\n\n" + next_in_queue(ctx, person, focus)


def next_in_queue(ctx: Context, person: Person, focus: ChatFocus, skip: bool = False) -> str:
    """The next request of the /审核 list (下一份 puts the current one last), or that the list is done."""
    pending: dict[str, Any] = focus.pending or {}
    queue = flow.waiting_ids(ctx, person, pending.get("queue", []))
    if skip and len(queue) > 1:
        queue = [*queue[1:], queue[0]]
    if not queue:
        focus.pending = None
        return t.REVIEW_DONE
    focus.pending = {"kind": PENDING_KIND, "queue": queue}
    return show(ctx, ctx.session.get(ReviewStep, queue[0]), len(queue) > 1)


def approve_all(ctx: Context, person: Person, queue: list[int], focus: ChatFocus) -> str:
    """全部通过, confirmed: every listed step still waiting on the speaker is approved."""
    approved = skipped = 0
    listed = flow.steps_by_id(ctx, queue)
    flow.lock_tasks(ctx, [step.assignment.task_id for step in listed.values()])
    for step_id in queue:
        step = listed.get(step_id)
        if step is None or step.decision is not None or not flow.may_decide(ctx, person, step):
            skipped += 1
            continue
        if flow.approve_step(ctx, person, step):
            approved += 1
        else:
            skipped += 1
    focus.pending = None
    return t.approved_all(approved, skipped)


def is_review_button(token: str) -> bool:
    """Is this the token of a review request's buttons (rv12) rather than of a form question (c3p4)?"""
    return token.startswith(flow.TOKEN_PREFIX) and token.removeprefix(flow.TOKEN_PREFIX).isdigit()


def click(ctx: Context, person: Person, token: str, value: str) -> list[str]:
    """A press on a review request's button: 通过 decides, 退回 asks for the reason (and question numbers)."""
    step_id = typed_id(token.removeprefix(flow.TOKEN_PREFIX))
    step = ctx.session.get(ReviewStep, step_id) if step_id is not None else None
    if step is None or not flow.may_decide(ctx, person, step):
        return [t.NOT_YOUR_REVIEW if step is not None else t.STALE_REVIEW_BUTTON]
    if step.decision is not None:
        return [flow.too_late(ctx, step) if step.decided_by_id != person.id else t.STALE_REVIEW_BUTTON]
    if fold(value) in t.APPROVE_WORDS:
        return [flow.approve(ctx, person, step)]
    focus = machine.focus_of(ctx, person)
    base = focus.pending if (focus.pending or {}).get("kind") == PENDING_KIND else {"kind": PENDING_KIND, "queue": []}
    focus.pending = {**base, "reason_for": step.id}
    unit = unit_path(step.assignment.org_unit)
    return [f"{unit}：" + t.ASK_RETURN_REASON]
