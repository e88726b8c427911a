"""Log set-up shared by the command line and the processes it starts."""

from __future__ import annotations

import logging


def configure_logging(verbose: bool = False, process: str | None = None) -> None:
    """Log lines with time, level and logger (and ``process``, for worker processes).

    kafka-python is kept to warnings, and its event-loop timing notes out: it
    warns whenever one of its network tasks waited more than 100 ms for the
    GIL, which the lake writer's decode threads make routine, a note for
    kafka-python's developers rather than for whoever operates the pipeline.
    """
    who = f" {process}" if process else ""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format=f"%(asctime)s %(levelname)s{who} %(name)s: %(message)s",
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("kafka.net.selector").setLevel(logging.ERROR)
