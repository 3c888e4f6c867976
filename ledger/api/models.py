"""The service's response bodies, for the OpenAPI document (requests are the domain's own commands)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class CommandResultOut(BaseModel):
    """What became of one command. `repeated`: its key was seen before with
    the same payload; nothing was written and this is the first result."""

    position: int
    key: str
    command_type: str
    status: Literal["accepted", "rejected"]
    rule: str | None
    reason: str | None
    details: dict[str, str] | None
    repeated: bool
    stream: str
    notification_ids: list[int]


class CommandsOut(BaseModel):
    results: list[CommandResultOut]


class BalanceOut(BaseModel):
    account: str
    asset: str
    amount: str
    amount_minor: str


class WriterStats(BaseModel):
    """Since the server started: transactions committed, commands in them, batches retried without a refused request."""

    transactions: int
    commands: int
    retries: int


class HealthOut(BaseModel):
    status: Literal["ok"]
    log_position: int
    writer: WriterStats
