"""Lambkin: a self-hosted serverless platform with the AWS Lambda programming model."""

__version__ = "0.1.0"
