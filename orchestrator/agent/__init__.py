"""The Lambkin bootstrap agent: runs inside every instance, next to the language runtime.

Stdlib only, relative imports only: the package is copied into runtime images as the top-level
package `lambkin_agent` (`python3 -m lambkin_agent`) and runs in process mode as
`python -m orchestrator.agent`. The control protocol it serves is in docs/architecture.md.
"""
