"""Scheduling rules as frozen dataclasses whose fields are the YAML keys of `schedule:`.

Units are in the key names: minutes (`*_minutes`), hours (`*_hours`), shares in 0..1,
money per paid hour. Clock times are "HH:MM" strings. Every rule is checked in
`__post_init__` and a broken one raises ValueError naming the field, the rule and the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .errors import SchedulerError
from .labour import family_violations, preset

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_WINDOW = re.compile(r"^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$")


def clock_minutes(text: str, where: str, *, allow_24: bool = False) -> int:
    """Minutes after midnight of an "HH:MM" string; `where` names the field in errors."""
    match = _CLOCK.match(str(text).strip())
    if not match:
        raise SchedulerError(f"{where} must be a time like '08:30', got {text!r}")
    hours, minutes = int(match.group(1)), int(match.group(2))
    total = hours * 60 + minutes
    limit = 24 * 60 if allow_24 else 24 * 60 - 1
    if minutes >= 60 or total > limit:
        raise SchedulerError(f"{where} must lie within 00:00-{'24:00' if allow_24 else '23:59'}, "
                             f"got {text!r}")
    return total


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SchedulerError(message)


@dataclass(frozen=True)
class BreakRule:
    """One break or lunch of every shift of a family.

    A family may have several breaks of kind "break" (e.g. two of 15 minutes) and at most one
    "lunch"; their windows must not overlap. In the roster the breaks are numbered by window
    order: the first is `break_start/break_end`, the next `break2_start/break2_end`, ...

    The break starts between `earliest_offset_minutes` and `latest_offset_minutes` after the
    shift starts (on the interval grid); the model chooses where. An unpaid break lengthens
    the shift: a shift lasts its paid hours plus its unpaid breaks.
    """

    name: str
    length_minutes: int
    earliest_offset_minutes: int
    latest_offset_minutes: int
    paid: bool = False
    kind: Literal["break", "lunch"] = "break"

    def __post_init__(self) -> None:
        where = f"break {self.name!r}"
        _check(self.length_minutes > 0,
               f"{where}: length_minutes must be > 0, got {self.length_minutes}")
        _check(self.earliest_offset_minutes >= 0,
               f"{where}: earliest_offset_minutes must be >= 0, got {self.earliest_offset_minutes}")
        _check(self.latest_offset_minutes >= self.earliest_offset_minutes,
               f"{where}: latest_offset_minutes ({self.latest_offset_minutes}) must be >= "
               f"earliest_offset_minutes ({self.earliest_offset_minutes})")
        _check(self.kind in ("break", "lunch"),
               f"{where}: kind must be 'break' or 'lunch', got {self.kind!r}")


@dataclass(frozen=True)
class ShiftFamily:
    """A family of shifts sharing a length, a start window, a cost and a tour rule.

    `days_per_week` None means independent daily shifts (no weekly tour); otherwise every
    agent of the family works a weekly tour of that many days, with the days off in one block
    when `consecutive_days_off`. `night_premium` and `weekend_premium` are shares added to
    `cost_per_hour` for the part of the shift inside `night_window` or on Saturday/Sunday.
    `min_share`/`max_share` bound the family's share of all paid hours of its queue.
    """

    name: str
    paid_hours: float
    earliest_start: str
    latest_start: str
    contract: str = "full_time"
    start_step_minutes: int = 30
    weekdays: tuple[str, ...] = WEEKDAY_NAMES
    cost_per_hour: float = 1.0
    night_premium: float = 0.0
    night_window: str = "22:00-06:00"
    weekend_premium: float = 0.0
    min_share: float = 0.0
    max_share: float = 1.0
    days_per_week: int | None = None
    consecutive_days_off: bool = True
    max_start_variation_hours: float | None = None
    breaks: tuple[BreakRule, ...] = ()
    queues: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        where = f"family {self.name!r}"
        _check(self.paid_hours > 0, f"{where}: paid_hours must be > 0, got {self.paid_hours}")
        _check(float(self.paid_hours * 60).is_integer(),
               f"{where}: paid_hours must be whole minutes, got {self.paid_hours}")
        first = clock_minutes(self.earliest_start, f"{where}: earliest_start")
        last = clock_minutes(self.latest_start, f"{where}: latest_start")
        _check(last >= first, f"{where}: latest_start {self.latest_start} is before "
                              f"earliest_start {self.earliest_start}")
        _check(self.start_step_minutes > 0,
               f"{where}: start_step_minutes must be > 0, got {self.start_step_minutes}")
        bad_days = [d for d in self.weekdays if str(d).lower()[:3] not in WEEKDAY_NAMES]
        _check(not bad_days and len(self.weekdays) > 0,
               f"{where}: weekdays must be names from {', '.join(WEEKDAY_NAMES)}, "
               f"got {list(self.weekdays)!r}")
        _check(self.cost_per_hour >= 0,
               f"{where}: cost_per_hour must be >= 0, got {self.cost_per_hour}")
        for key in ("night_premium", "weekend_premium"):
            _check(getattr(self, key) >= 0, f"{where}: {key} must be >= 0, got {getattr(self, key)}")
        self.night_minutes()
        for key in ("min_share", "max_share"):
            value = getattr(self, key)
            _check(0 <= value <= 1, f"{where}: {key} must be within 0..1, got {value}")
        _check(self.min_share <= self.max_share, f"{where}: min_share ({self.min_share}) must "
                                                 f"be <= max_share ({self.max_share})")
        if self.days_per_week is not None:
            _check(1 <= self.days_per_week <= 7,
                   f"{where}: days_per_week must be within 1..7, got {self.days_per_week}")
            _check(self.days_per_week <= len(self.weekday_numbers()),
                   f"{where}: days_per_week {self.days_per_week} exceeds its "
                   f"{len(self.weekday_numbers())} allowed weekdays")
        if self.max_start_variation_hours is not None:
            _check(self.max_start_variation_hours >= 0, f"{where}: max_start_variation_hours "
                                                        f"must be >= 0, got {self.max_start_variation_hours}")
        self._check_breaks(where)

    def _check_breaks(self, where: str) -> None:
        kinds = [b.kind for b in self.breaks]
        # Several short breaks are common (2 x 15 min + lunch); one meal break per shift is
        # what labour rules and the roster's lunch_start/lunch_end columns describe.
        _check(kinds.count("lunch") <= 1, f"{where}: at most one break of kind 'lunch' per "
                                          f"family, got {kinds.count('lunch')}")
        names = [b.name for b in self.breaks]
        _check(len(set(names)) == len(names), f"{where}: break names must be unique, got {names}")
        length = self.length_minutes
        for brk in self.breaks:
            _check(brk.length_minutes < length,
                   f"{where}: break {brk.name!r} of {brk.length_minutes} min is not shorter "
                   f"than its {length} min shift")
            _check(brk.latest_offset_minutes + brk.length_minutes <= length,
                   f"{where}: break {brk.name!r} may end at minute "
                   f"{brk.latest_offset_minutes + brk.length_minutes}, after its shift ends "
                   f"at minute {length}")
        ordered = sorted(self.breaks, key=lambda b: b.earliest_offset_minutes)
        for before, after in zip(ordered, ordered[1:]):
            _check(before.latest_offset_minutes + before.length_minutes
                   <= after.earliest_offset_minutes,
                   f"{where}: windows of breaks {before.name!r} (minutes "
                   f"{before.earliest_offset_minutes}-"
                   f"{before.latest_offset_minutes + before.length_minutes}) and {after.name!r} "
                   f"(from minute {after.earliest_offset_minutes}) overlap")

    @property
    def length_minutes(self) -> int:
        """Shift length in minutes: paid time plus unpaid breaks."""
        unpaid = sum(b.length_minutes for b in self.breaks if not b.paid)
        return int(round(self.paid_hours * 60)) + unpaid

    def start_minutes(self) -> list[int]:
        """Allowed start times as minutes after midnight."""
        first = clock_minutes(self.earliest_start, "earliest_start")
        last = clock_minutes(self.latest_start, "latest_start")
        return list(range(first, last + 1, self.start_step_minutes))

    def weekday_numbers(self) -> set[int]:
        """Allowed weekdays, 0 = Monday."""
        return {WEEKDAY_NAMES.index(str(d).lower()[:3]) for d in self.weekdays}

    def night_minutes(self) -> tuple[int, int]:
        """Night window as (start, end) minutes after midnight; end < start wraps midnight."""
        match = _WINDOW.match(str(self.night_window).strip())
        if not match:
            raise SchedulerError(f"family {self.name!r}: night_window must look like "
                                 "'22:00-06:00', "
                                 f"got {self.night_window!r}")
        return (clock_minutes(match.group(1), f"family {self.name!r}: night_window", allow_24=True),
                clock_minutes(match.group(2), f"family {self.name!r}: night_window", allow_24=True))


@dataclass(frozen=True)
class ShareLimit:
    """A cap (and floor) on the paid hours of several families together, as a share of their
    queue's paid hours: e.g. all part-time families at most 30%."""

    families: tuple[str, ...]
    max_share: float = 1.0
    min_share: float = 0.0

    def __post_init__(self) -> None:
        _check(len(self.families) > 0, "share_limits: families must name at least one family")
        for key in ("min_share", "max_share"):
            value = getattr(self, key)
            _check(0 <= value <= 1, f"share_limits {list(self.families)}: {key} must be "
                                    f"within 0..1, got {value}")
        _check(self.min_share <= self.max_share,
               f"share_limits {list(self.families)}: min_share ({self.min_share}) must be <= "
               f"max_share ({self.max_share})")


@dataclass(frozen=True)
class ScheduleRules:
    """The whole `schedule:` section.

    `shortfall_penalty` is charged per agent-interval short of requirement; set it above the
    cost of the cheapest shift so covering is always preferred to a gap. `objective`
    "service_level" replaces interval-by-interval cover with a target share of calls
    answered within `service_level_seconds` per day or week (`service_level_period`); calls
    short of that target cost `service_level_penalty` each. `cyclic` wraps the part of a
    shift past the plan's end onto its start (a repeating roster).
    """

    families: tuple[ShiftFamily, ...] = ()
    interval_minutes: int = 30
    min_rest_hours: float = 11.0
    max_consecutive_days: int = 6
    headcount: Mapping[str, int] = field(default_factory=dict)
    shortfall_penalty: float = 1000.0
    objective: Literal["cover", "service_level"] = "cover"
    service_level_target: float = 0.8
    service_level_seconds: float = 20.0
    service_level_period: Literal["day", "week"] = "day"
    service_level_penalty: float = 100.0
    cyclic: bool = False
    share_limits: tuple[ShareLimit, ...] = ()
    labour_rules: Literal["cn_standard", "cn_comprehensive"] | None = None
    """China's labour-rule preset the families must keep (scheduler/labour.py)."""
    multi_skill: bool = False
    """Pool multi-skilled agents: tours belong to the agents' skill sets (`queues` column of
    the agents file) and each interval's working agents of a skill set are allocated among
    the queues it serves (docs/scheduling.md, *Multi-skill pooling*). Needs an agents file."""

    def __post_init__(self) -> None:
        _check(self.interval_minutes in (15, 30, 60),
               f"schedule: interval_minutes must be 15, 30 or 60, got {self.interval_minutes}")
        _check(self.min_rest_hours >= 0,
               f"schedule: min_rest_hours must be >= 0, got {self.min_rest_hours}")
        _check(self.max_consecutive_days >= 1,
               f"schedule: max_consecutive_days must be >= 1, got {self.max_consecutive_days}")
        _check(self.shortfall_penalty >= 0,
               f"schedule: shortfall_penalty must be >= 0, got {self.shortfall_penalty}")
        _check(self.objective in ("cover", "service_level"),
               f"schedule: objective must be 'cover' or 'service_level', got {self.objective!r}")
        _check(0 < self.service_level_target < 1, "schedule: service_level_target must be "
                                                  f"within (0, 1), got {self.service_level_target}")
        _check(self.service_level_seconds >= 0, "schedule: service_level_seconds must be >= 0, "
                                                f"got {self.service_level_seconds}")
        _check(self.service_level_period in ("day", "week"), "schedule: service_level_period "
                                                             f"must be 'day' or 'week', got {self.service_level_period!r}")
        names = [f.name for f in self.families]
        dupes = sorted({n for n in names if names.count(n) > 1})
        _check(not dupes, f"schedule: family names must be unique, got {dupes} more than once")
        for limit in self.share_limits:
            unknown = [f for f in limit.families if f not in names]
            _check(not unknown, f"schedule: share_limits names family "
                                f"{(unknown or [''])[0]!r}, which is not defined (families: "
                                f"{names})")
        contracts = {f.contract for f in self.families}
        for contract, count in self.headcount.items():
            _check(contract in contracts, f"schedule: headcount names contract {contract!r}, "
                                          f"which no family has (contracts: {sorted(contracts)})")
            _check(count >= 0, f"schedule: headcount.{contract} must be >= 0, got {count}")
        for key in ("min_share",):
            total = sum(getattr(f, key) for f in self.families)
            _check(total <= 1 + 1e-9, f"schedule: the families' min_share add up to {total}, "
                                      "more than 1")
        if self.labour_rules is not None:
            try:
                broken = family_violations(self.families, preset(self.labour_rules),
                                           self.max_consecutive_days)
            except ValueError as exc:
                raise ValueError(f"schedule: {exc}") from None
            _check(not broken, f"schedule: labour_rules {self.labour_rules}: "
                               f"{broken[0] if broken else ''}")
        rest = self.min_rest_hours * 60
        for fam in self.families:
            if fam.days_per_week is not None and fam.days_per_week > 1:
                _check(fam.length_minutes + rest <= 24 * 60,
                       f"family {fam.name!r}: a {fam.length_minutes} min shift plus "
                       f"min_rest_hours {self.min_rest_hours} exceeds 24 h, so no tour can work "
                       "two days in a row")
