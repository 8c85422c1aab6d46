"""Commands that act on discovery results: runs and the findings queue."""

COMMANDS = ()
