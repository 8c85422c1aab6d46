"""The long-running scheduler process: one discovery job per school."""

COMMANDS = ()
