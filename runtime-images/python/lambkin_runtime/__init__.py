"""Lambkin's Python runtime client: `python3 -m lambkin_runtime [module.function]`.

Standard library only. It speaks the Lambda Runtime API (2018-06-01) at
`$AWS_LAMBDA_RUNTIME_API` and behaves, as seen from the API and the logs, like AWS's own client
(awslambdaric): same error types and messages, same context object, same log line formats.

| module | concept |
|---|---|
| `__main__` | start-up and the invocation loop |
| `runtime_api` | the client of the Runtime API (one persistent HTTP connection) |
| `handler_loader` | `module.function` -> the handler callable, or an init error |
| `context` | the `context` object handed to the handler |
| `marshalling` | event bytes -> Python object, return value -> response bytes |
| `errors` | error types and the error documents posted to the Runtime API |
| `logging_setup` | stdout/stderr buffering, the root log handler, error log lines |
"""
