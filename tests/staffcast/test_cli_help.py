"""Every command of the CLI answers --help with text (the help is part of the contract)."""

from click.testing import CliRunner

from staffcast.cli import main


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


def test_every_command_has_help_text():
    runner = CliRunner()
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    for path, command in _commands(main):
        assert command.help, f"command {' '.join(path)} has no help text"
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, result.output
        for param in command.params:
            if param.name != "help" and not getattr(param, "hidden", False):
                assert getattr(param, "help", None) or param.param_type_name == "argument", (
                    f"option {param.name} of {' '.join(path)} has no help text")
