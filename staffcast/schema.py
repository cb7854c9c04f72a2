"""The JSON Schema of a staffcast config file, generated from the typed config dataclasses.

`config_schema()` walks the same frozen dataclasses `staffcast.config.parse_config` builds
(`ForecastSettings`, `ScheduleRules` and its `ShiftFamily`/`BreakRule`, `QueueStaffing`)
and their type hints, so a key added to a dataclass appears in the schema without editing
this module. The schema checks the shape (known keys, types, enumerations, required keys);
rules across fields (a break inside its shift, min_share sums) stay with the parser, which
`staffcast config check` runs.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

SCHEMA_ID = "https://staffcast.invalid/schema/config.json"

_TEXT = {"type": ["string", "number"]}  # the parser reads a number given for text as text


def _description(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return " ".join(doc.split("\n\n")[0].split())


def _field_notes(cls: type) -> dict[str, str]:
    """Field descriptions from a docstring written as `name: text` (or `a, b: text`)
    paragraphs, as QueueStaffing's is."""
    notes: dict[str, str] = {}
    current: list[str] = []
    for line in (inspect.getdoc(cls) or "").splitlines():
        head, sep, text = line.partition(": ")
        names = [n.strip() for n in head.split(",")]
        if sep and not line.startswith(" ") and all(n.isidentifier() for n in names):
            current = names
            for name in names:
                notes[name] = text.strip()
        elif current and line.startswith(" ") and line.strip():
            for name in current:
                notes[name] += " " + line.strip()
        else:
            current = []
    return notes


class _Builder:
    def __init__(self) -> None:
        self.defs: dict[str, dict] = {}

    def of_type(self, tp: Any) -> dict:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if tp is Any:
            return {}
        if origin in (typing.Union, types.UnionType):
            options = [self.of_type(a) for a in args if a is not type(None)]
            if type(None) in args:
                options.append({"type": "null"})
            return options[0] if len(options) == 1 else {"anyOf": options}
        if origin is Literal:
            return {"enum": list(args)}
        if dataclasses.is_dataclass(tp):
            return self.ref(tp)
        if origin in (tuple, list):
            items = args[0] if args else Any
            return {"type": "array", "items": self.of_type(items)}
        if origin in (dict, Mapping) or tp is dict:
            key_tp, value_tp = args if args else (Any, Any)
            schema = {"type": "object", "additionalProperties": self.of_type(value_tp)}
            if key_tp is int:
                schema["description"] = "keys are whole numbers"
            return schema
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is float:
            return {"type": "number"}
        if tp is str:
            return dict(_TEXT)
        if tp is Path:
            return {"type": "string"}
        raise TypeError(f"config schema: no JSON type for {tp!r}")

    def ref(self, cls: type) -> dict:
        name = cls.__name__
        if name not in self.defs:
            self.defs[name] = {}  # placeholder: a dataclass may refer to itself
            self.defs[name] = self.dataclass(cls)
        return {"$ref": f"#/$defs/{name}"}

    def dataclass(self, cls: type, *, nullable: bool = False) -> dict:
        hints = typing.get_type_hints(cls)
        notes = _field_notes(cls)
        properties, required = {}, []
        for fld in dataclasses.fields(cls):
            if not fld.init:
                continue
            prop = self.of_type(hints[fld.name])
            if fld.name in notes:
                prop = {**prop, "description": notes[fld.name]}
            if fld.default is not dataclasses.MISSING and _json_ready(fld.default):
                prop = {**prop, "default": _json_value(fld.default)}
            properties[fld.name] = prop
            if (fld.default is dataclasses.MISSING
                    and fld.default_factory is dataclasses.MISSING):
                required.append(fld.name)
        schema = {"type": ["object", "null"] if nullable else "object",
                  "description": _description(cls), "properties": properties,
                  "additionalProperties": False}
        if required:
            schema["required"] = required
        return schema


def _json_ready(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, tuple))


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _queue_schema(builder: _Builder) -> dict:
    from staffcast.scheduler.requirements import QueueStaffing

    staffing = builder.dataclass(QueueStaffing)
    ranges = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    properties = {
        "opening_hours": {
            "description": "'08:00-22:00' every day, a list of ranges, or a mapping of day "
                           "specs ('mon-fri', 'sat,sun', 'daily') to ranges or 'closed'; "
                           "days a mapping leaves out are closed.",
            "anyOf": [*ranges["anyOf"], {"type": "object", "additionalProperties": ranges}]},
        "rest_day": {
            "description": "The queue's quiet weekday: 'auto' (learnt from history), a "
                           "weekday name such as 'sun', or 0-6 (0 = Monday).",
            "anyOf": [{"type": "string"}, {"type": "integer", "minimum": 0, "maximum": 6},
                      {"type": "null"}]},
        **staffing["properties"],
    }
    # Staffing settings are optional as a whole; once any is given, the required ones are.
    needs = staffing.get("required", [])
    return {"type": ["object", "null"],
            "description": "One queue: opening hours, rest day and staffing settings "
                           f"({_description(QueueStaffing)})",
            "properties": properties, "additionalProperties": False,
            "dependentRequired": {key: needs for key in staffing["properties"]
                                  if key not in needs}}


def config_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a config file, as a plain dict."""
    from staffcast import config as cfg

    builder = _Builder()
    hints = typing.get_type_hints(cfg.Config)
    properties: dict[str, dict] = {}
    for key in cfg._TOP_KEYS:
        if key == "queues":
            properties[key] = {"type": ["object", "null"],
                               "description": "Queue name -> settings; a queue named "
                                              "'default' applies to queues not listed.",
                               "additionalProperties": _queue_schema(builder)}
        elif key == "agents":
            properties[key] = {"type": "string",
                               "description": "Path of the agents CSV, relative to the "
                                              "config file."}
        elif key == "history_columns":
            properties[key] = {"type": ["object", "null"],
                               "description": "A vendor's column names in history files: "
                                              "our column -> the file's.",
                               "propertyNames": {"enum": list(cfg.HISTORY_COLUMNS)},
                               "additionalProperties": dict(_TEXT)}
        elif dataclasses.is_dataclass(hints.get(key)):
            properties[key] = builder.dataclass(hints[key], nullable=True)
        else:
            properties[key] = {}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "staffcast config", "description": _description(cfg.Config),
            "type": ["object", "null"], "properties": properties,
            "additionalProperties": False, "$defs": builder.defs}
