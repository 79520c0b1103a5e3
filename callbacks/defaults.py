"""Default callback rules for a queue: used by the data migration and by policy_for() for queues
added later, so both create the same thing."""

from datetime import time

# Monday–Friday 09:00–18:00 and Saturday 10:00–16:00 in the queue's time zone; Sunday closed.
DEFAULT_HOURS: list[tuple[int, time, time]] = [
    *((weekday, time(9, 0), time(18, 0)) for weekday in range(5)),
    (5, time(10, 0), time(16, 0)),
]
DEFAULT_TIME_ZONE = "Asia/Shanghai"
