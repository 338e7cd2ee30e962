"""Use cases over ports. Imports only `domain` and the standard library."""
