"""Every command of the CLI answers --help with text (the help is part of the contract),
and the top-level help lists the commands without importing them."""

import subprocess
import sys

import click
from click.testing import CliRunner

from staffcast.cli import COMMANDS, main


def _commands(group, ctx, prefix=()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, click.Context(command, parent=ctx),
                                 (*prefix, name))


def test_every_command_has_help_text():
    runner = CliRunner()
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    for path, command in _commands(main, click.Context(main)):
        assert command.help, f"command {' '.join(path)} has no help text"
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, result.output
        for param in command.params:
            if param.name != "help" and not getattr(param, "hidden", False):
                assert getattr(param, "help", None) or param.param_type_name == "argument", (
                    f"option {param.name} of {' '.join(path)} has no help text")


def test_command_table_repeats_each_commands_own_help():
    ctx = click.Context(main)
    for name, (_, _, first_paragraph) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
        own = " ".join(command.help.split("\n\n")[0].split())
        assert own == first_paragraph, f"cli.COMMANDS[{name!r}] differs from its docstring"


def test_top_level_help_imports_no_heavy_library():
    code = ("import sys; from staffcast.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pandas', 'numpy', 'scipy', 'pulp', 'plotly', 'statsmodels',"
            " 'prophet', 'dask', 'duckdb', 'yaml') if m in sys.modules]\n"
            "print('HEAVY', heavy, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert "Commands:" in done.stdout and "plan" in done.stdout
    assert "HEAVY []" in done.stderr, done.stderr


def test_every_command_module_command_is_in_the_table():
    # A command added to a module's COMMANDS but not to cli.COMMANDS would be unreachable.
    import importlib
    import pkgutil

    import staffcast.commands

    listed = {(module, attribute) for module, attribute, _ in COMMANDS.values()}
    for info in pkgutil.iter_modules(staffcast.commands.__path__):
        module = importlib.import_module(f"staffcast.commands.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            attribute = next(k for k, v in vars(module).items() if v is command)
            assert (module.__name__, attribute) in listed, (
                f"{module.__name__}.{attribute} ({command.name}) is missing from cli.COMMANDS")
