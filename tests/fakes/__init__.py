"""Loopback stand-ins for the services supbot talks to (only the network boundary is fake)."""
