"""Runs as its own process, like one Lambda instance: API Gateway events in, handler answers out.

Usage: python lambda_driver.py DIR   (DIR holds handler.py and zappa_settings.py, e.g. an unpacked zip)
Reads one JSON event per line on stdin and writes one JSON line per answer on stdout:
``{"response": ..., "seconds": ...}``. Nothing else may write to stdout.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid


class LambdaContext:
    """The attributes of Lambda's context object that Zappa and the app may read."""

    function_name = "nativemessage-production"
    memory_limit_in_mb = 512

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def main() -> None:
    directory = sys.argv[1]
    sys.path.insert(0, directory)
    os.chdir(directory)
    # The app and Zappa log to stderr/stdout; keep stdout for answers only.
    answers, sys.stdout = sys.stdout, sys.stderr
    import handler  # the zip's own entry point (Zappa's handler.py)

    for line in sys.stdin:
        event = json.loads(line)
        started = time.perf_counter()
        response = handler.lambda_handler(event, LambdaContext())
        answers.write(json.dumps({"response": response, "seconds": time.perf_counter() - started}) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
