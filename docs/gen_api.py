"""Write docs/api.md, the reference of `import staffcast`, from the API's docstrings.

    python docs/gen_api.py          # rewrite docs/api.md
    python docs/gen_api.py --check  # exit 1 when docs/api.md is not what this generates

tests/staffcast/test_api_docs.py checks that the committed page is the generated one.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parent / "api.md"

INTRO = """\
# Library API (`import staffcast`)

Generated from the docstrings by `docs/gen_api.py`; do not edit by hand.

`import staffcast` is cheap: these names are imported from `staffcast.api` on first use.
Frames are long (`unique_id`, `ds` as naive local interval starts, units in column names:
see the data contracts in the README). Nothing is written until `Plan.write`. A user
mistake raises `staffcast.errors.StaffcastError` (or a subclass) with a one-line message.

```python
import staffcast

config = staffcast.load_config("configs/example.yaml")
history = staffcast.load_history("examples/data/history.csv", config=config)
calendar = staffcast.load_calendar("examples/data/calendar.csv", config=config)
plan = staffcast.plan(config, history, calendar, time_limit_s=60)
plan.write("out/python-demo")
```
"""


def _doc(obj) -> str:
    return inspect.cleandoc(obj.__doc__ or "(no docstring)")


class _Annotation(str):
    """An annotation kept as text (`from __future__ import annotations`), shown unquoted."""

    def __repr__(self) -> str:
        return str(self)


def _signature(name: str, obj) -> str:
    sig = inspect.signature(obj)
    params = [p.replace(annotation=_Annotation(p.annotation)) if isinstance(p.annotation, str)
              else p for p in sig.parameters.values()]
    back = sig.return_annotation
    sig = sig.replace(parameters=params, return_annotation=_Annotation(back)
                      if isinstance(back, str) else back)
    return f"{name}{sig}"


def _class(name: str, cls) -> list[str]:
    lines = [f"## `{name}`", "", "```python", f"class {name}", "```", "", _doc(cls), ""]
    for member, value in cls.__dict__.items():
        if member.startswith("_"):
            continue
        if isinstance(value, property):
            lines += [f"### `{name}.{member}` (property)", "", _doc(value.fget), ""]
        elif inspect.isfunction(value):
            lines += [f"### `{name}.{member}`", "", "```python",
                      _signature(member, value).replace("(self, ", "(").replace("(self)", "()"),
                      "```", "", _doc(value), ""]
    return lines


def render() -> str:
    """The text of docs/api.md."""
    import staffcast
    from staffcast import api

    lines = [INTRO]
    for name in staffcast.API:
        obj = getattr(api, name)
        if inspect.isclass(obj):
            lines += _class(name, obj)
        else:
            lines += [f"## `staffcast.{name}`", "", "```python", _signature(name, obj), "```",
                      "", _doc(obj), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE} is out of date: run python docs/gen_api.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main(sys.argv[1:]))
