"""The shop's domain: entities, value rules and errors. Imports nothing outside the standard library."""
