"""Commands that run discovery: discover, scheduler, agent."""

COMMANDS = ()
