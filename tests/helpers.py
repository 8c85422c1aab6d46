"""Helpers shared by the integration tests."""


def fleet(runner, *args):
    """Run a command as typed at the prompt; a crash fails the test instead of passing for exit status 1."""
    result = runner.invoke(args=[str(arg) for arg in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result
