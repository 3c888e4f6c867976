"""The package's optional parts (extras), and the one line naming the one to install when a module of it is missing."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

DISTRIBUTION = "crypto-bank-ledger"


@dataclass(frozen=True)
class Extra:
    name: str  # as in pyproject.toml's [project.optional-dependencies]
    what: str  # what it gives, as a user would say it

    @property
    def requirement(self) -> str:
        return f"{DISTRIBUTION}[{self.name}]"

    @property
    def install_hint(self) -> str:
        return f"install the {self.what} extra: pip install '{self.requirement}'"

    def installed(self) -> bool:
        """Every module this extra brings can be imported (found, not imported: cheap)."""
        modules = [module for module, extra in EXTRA_OF_MODULE.items() if extra == self and module != "psycopg_binary"]
        try:
            return all(importlib.util.find_spec(module) is not None for module in modules)
        except ImportError:
            return False


POSTGRES = Extra("postgres", "PostgreSQL")
SERVICE = Extra("service", "HTTP service")

# The top-level modules each extra brings (their own dependencies among them),
# by the name Python imports.
EXTRA_OF_MODULE: dict[str, Extra] = {
    "psycopg": POSTGRES,
    "psycopg_pool": POSTGRES,
    "psycopg_binary": POSTGRES,
    "fastapi": SERVICE,
    "fastapi_swagger": SERVICE,
    "starlette": SERVICE,
    "sse_starlette": SERVICE,
    "uvicorn": SERVICE,
    "httpx": SERVICE,
}

CAUSES_MAX = 10  # a library wraps an import error once or twice


def missing_extra(error: BaseException | None) -> tuple[str, Extra] | None:
    """The module that `error` (or an error it was raised from) failed to
    import and the extra that brings it; None for any other error."""
    for _ in range(CAUSES_MAX):
        if error is None:
            return None
        if isinstance(error, ModuleNotFoundError) and error.name:
            module = error.name.split(".")[0]
            if module in EXTRA_OF_MODULE:
                return module, EXTRA_OF_MODULE[module]
        error = error.__cause__ or error.__context__
    return None


def missing_extra_line(error: BaseException | None) -> str | None:
    """ "psycopg is not installed: install the PostgreSQL extra: pip install ...", or None."""
    missing = missing_extra(error)
    if missing is None:
        return None
    module, extra = missing
    return f"{module} is not installed: {extra.install_hint}"
