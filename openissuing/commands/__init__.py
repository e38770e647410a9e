"""The commands that steer a running server over HTTP: sandbox, clock, faults, demo, trigger,
seed, listen (``openissuing.cli`` registers them)."""
