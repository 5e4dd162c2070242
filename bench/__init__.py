"""Performance benchmark of the service against a bare Flask baseline; run with `make bench`."""
