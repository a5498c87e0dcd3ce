"""Scheduled jobs and allow-listed commands: runner, locks, history, services, renderers."""
