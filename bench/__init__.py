"""Lambkin's benchmark suite: Lambkin and AWS's Runtime Interface Emulator, same run, same machine.

Run it with `make bench` (or `make bench-quick`); see bench/README.md.
"""
