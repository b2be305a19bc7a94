"""The parity suite: torch on one thread per test, and $MMSSL_PARITY_REPORT.

Tiny models gain nothing from a second intra-op thread, and on a loaded 2-core machine
each op of 2 threads waits ~10-40 ms for both of them (the suite ran minutes instead of
seconds). With ``MMSSL_PARITY_REPORT=FILE`` the largest difference of every comparison is
written to FILE as JSON at the end of the session (the figures of ``docs/parity.md``).
"""
import os
from collections.abc import Iterator

import pytest
import torch

from tests.test_parity._parity import write_report


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def pytest_sessionfinish(session, exitstatus) -> None:
    path = os.environ.get('MMSSL_PARITY_REPORT')
    if path:
        write_report(path)
