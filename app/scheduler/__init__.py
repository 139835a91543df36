"""The scheduler adapter: APScheduler 3 firing the stored timers through app.services.time.timers.

Started explicitly (`python -m app serve` in-process, or `python -m app scheduler run`), never
from create_app.
"""

from .timer_scheduler import TimerScheduler, scheduler_name

__all__ = ["TimerScheduler", "scheduler_name"]
