"""A local SMTP sink for the benchmarks: accepts every message, counts them and their distinct
Message-IDs, and writes the counts to a file. `python -m bench.smtp_sink PORT STATUS_FILE`."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from email.parser import BytesHeaderParser


class Counter:
    def __init__(self):
        self.count = 0
        self.ids: set[str] = set()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message_id = BytesHeaderParser().parsebytes(envelope.content).get("Message-ID", "")
        with self.lock:
            self.count += 1
            self.ids.add(message_id)
        return "250 OK"


def main(argv: list[str]) -> int:
    from aiosmtpd.controller import Controller

    port, status = int(argv[0]), argv[1]
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        with counter.lock:
            data = {"count": counter.count, "distinct": len(counter.ids)}
        with open(status + ".tmp", "w") as fh:
            json.dump(data, fh)
        os.replace(status + ".tmp", status)
        time.sleep(0.2)
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
