"""The project's own install scripts, as CI meets them on a busy machine."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
APT_LOCKS = ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("apt-get") is None, reason="needs root and apt-get")
def test_apt_install_waits_for_another_apt_run_instead_of_failing() -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        fds = [os.open(path, os.O_RDWR | os.O_CREAT, 0o640) for path in APT_LOCKS]
        try:
            for fd in fds:
                fcntl.lockf(fd, fcntl.LOCK_EX)  # waits if a real apt run holds it now
            held.set()
            release.wait(60)
        finally:
            for fd in fds:
                os.close(fd)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(300), "could not take apt's locks"
    started = time.monotonic()
    proc = subprocess.Popen(["bash", "scripts/apt_install.sh", "a lock check", "bash"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    assert proc.poll() is None, f"it gave up while the lock was held: {proc.communicate()[1]}"
    release.set()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "waiting" in err and time.monotonic() - started >= 4
