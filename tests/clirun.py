"""Run the leadlens command as a user does: a separate process, a wide terminal."""

from __future__ import annotations

import os
import subprocess
import sys


def leadlens(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, "COLUMNS": "200"})
