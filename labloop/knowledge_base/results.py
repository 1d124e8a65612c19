"""Recording a measured outcome of a run (e.g. particle diameter by SEM), validated before it is stored."""

from __future__ import annotations

import math

from sqlmodel import Session

from labloop.knowledge_base.models import Result, Run


class ResultError(ValueError):
    """A result that cannot be stored; the message says which field is wrong."""


def add_result(
    session: Session, *, run_id: int, quantity: str, value: float, unit: str, author: str, method: str = ""
) -> Result:
    quantity, unit, author = quantity.strip(), unit.strip(), author.strip()
    if not quantity:
        raise ResultError("a result needs the quantity measured (e.g. 'particle diameter')")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ResultError(f"the value must be a finite number, got {value!r}")
    if not author:
        raise ResultError("a result needs its author's name")
    if len(quantity) > 200 or len(unit) > 50 or len(method) > 200:
        raise ResultError("quantity, unit or method is too long")
    if session.get(Run, run_id) is None:
        raise ResultError(f"run {run_id} does not exist")
    result = Result(run_id=run_id, quantity=quantity, value=float(value), unit=unit, method=method.strip(),
                    author=author)
    session.add(result)
    session.flush()
    return result
