"""Benchmarks and their load generators (`zhunong bench <name>`), on top of every app: they start real
server processes, drive them over loopback and read the results back through the apps' models."""
