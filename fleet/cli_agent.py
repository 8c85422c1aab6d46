"""The on-site discovery agent."""

COMMANDS = ()
