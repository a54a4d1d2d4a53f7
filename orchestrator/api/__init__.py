"""The HTTP edge: routers parse and validate, call a service, render. Nothing else."""
