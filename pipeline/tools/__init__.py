"""Helper commands that are not pipeline stages (run with ``python -m pipeline.tools.<name>``)."""
