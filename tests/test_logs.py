"""What reaches the log: one line for a host's robots.txt that failed, no secrets."""
from __future__ import annotations

import logging

import pytest

from sync.logs import configure_logging


@pytest.fixture
def log_to_capsys():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield configure_logging
    root.handlers[:] = handlers
    root.setLevel(level)


def _raise_and_log(logger: logging.Logger, message: str) -> None:
    try:
        raise ConnectionRefusedError("Connection was refused by other side: 111")
    except ConnectionRefusedError:
        logger.error(message, exc_info=True)


def test_a_robots_txt_download_failure_is_one_warning_line(log_to_capsys, capsys):
    log_to_capsys(verbosity=0)
    _raise_and_log(logging.getLogger("scrapy.downloadermiddlewares.robotstxt"),
                   "Error downloading <GET http://127.0.0.1:9/robots.txt>: Connection was refused")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "WARNING" in err and "robots.txt" in err
    assert "Traceback" not in err


def test_other_errors_keep_their_traceback_and_lose_their_secrets(log_to_capsys, capsys):
    log_to_capsys(verbosity=0)
    _raise_and_log(logging.getLogger("sync.run"), "could not deliver with secret whsec_c2VjcmV0c2VjcmV0c2VjcmV0")
    err = capsys.readouterr().err
    assert "ERROR" in err and "Traceback" in err
    assert "whsec_c2VjcmV0c2VjcmV0c2VjcmV0" not in err
