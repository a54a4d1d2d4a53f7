"""Lambkin: a self-hosted serverless platform with the AWS Lambda programming model.

Kept free of imports so that `orchestrator.agent` (stdlib only) can run anywhere.
"""

__version__ = "0.1.0"
