"""Loopback ports for the servers the tests start, and who listens on them.

A port found free can be taken by another server before ours binds it (the tests run in parallel), so a
probe that gets an answer on it must also check that the answer came from our own process.
"""

import os
import socket
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listening_processes(port: int) -> set[int]:
    """The ids of the processes holding a socket that listens on this TCP port (Linux /proc)."""
    inodes = _listening_inodes(port)
    holders = set()
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            descriptors = list((process / "fd").iterdir())
            targets = {os.readlink(descriptor) for descriptor in descriptors}
        except OSError:  # the process ended, or is not ours to look at
            continue
        if any(f"socket:[{inode}]" in targets for inode in inodes):
            holders.add(int(process.name))
    return holders


def _listening_inodes(port: int) -> set[str]:
    listen_state = "0A"
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == listen_state:
                inodes.add(fields[9])
    return inodes


def session_of(pid: int) -> int | None:
    """The session id of a process (field 6 of /proc/PID/stat), None once it has ended."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[3])
