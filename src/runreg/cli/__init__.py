"""The `runreg` command line: mounts each domain's commands."""
