"""Our own stand-ins for the services runreg talks to, speaking their real wire formats."""
