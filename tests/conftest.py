"""Fixtures shared by every test folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data (DHSD, poilus): $SCRABBLEGAN_SHARED_DATA, default ``<repo>/../shared/data``.

    Tests that need it skip when it is absent, except under CI (CI=true or 1), where they fail:
    a CI run must prove the real-data paths, not silently skip them.
    """
    path = Path(os.environ.get("SCRABBLEGAN_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not path.is_dir():
        reason = (
            f"shared data not found at {path}; set SCRABBLEGAN_SHARED_DATA to the folder holding "
            "dhsd/ and poilus/"
        )
        if os.environ.get("CI", "").strip().lower() in ("true", "1"):
            pytest.fail(reason + " (CI requires it)")
        pytest.skip(reason)
    return path


@pytest.fixture(autouse=True)
def _one_thread():
    """Tests run torch on one thread: the tiny models here are slower with more on a shared CPU."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
