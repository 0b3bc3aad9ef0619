"""Work made in a forked process and fetched by name as it is needed."""

from __future__ import annotations

import os
import signal

import pytest

from generator.diagnostics import ContentError, Diagnostic, Location
from generator.workers import Background, WorkerError


def _pages(n: int):
    def produce():
        for i in range(n):
            yield f"p{i}", f"page {i} " * 50  # several batches
        return {"made": n, "pid": os.getpid()}

    return produce


def test_items_arrive_by_name_in_any_order_then_the_result():
    background = Background(_pages(3000))
    try:
        assert background.get("p2999") == "page 2999 " * 50
        assert background.get("p0") == "page 0 " * 50
        result = background.finish()
        assert result["made"] == 3000 and result["pid"] != os.getpid()
        with pytest.raises(KeyError, match="no item 'p0'"):
            background.get("p0")  # handed out once
    finally:
        background.close()


def test_a_failure_in_the_child_comes_back_with_its_exception():
    def produce():
        yield "first", "made before the failure"
        raise ContentError([Diagnostic("error", "bad template", Location("paper.md.j2", 3))])

    background = Background(produce)
    try:
        assert background.get("first") == "made before the failure"
        with pytest.raises(WorkerError) as caught:
            background.get("second")
        assert isinstance(caught.value.original, ContentError)
        assert str(caught.value.original) == "1 error in content:\n  paper.md.j2:3: bad template"
        assert "Traceback" in str(caught.value)
    finally:
        background.close()


def test_a_child_that_dies_is_reported_not_waited_for():
    def produce():
        os.kill(os.getpid(), signal.SIGKILL)
        yield "never", ""

    background = Background(produce)
    try:
        with pytest.raises(WorkerError, match=r"stopped unexpectedly \(exit code -9\)"):
            background.finish()
    finally:
        background.close()
