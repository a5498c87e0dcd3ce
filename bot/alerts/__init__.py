"""Crash alerts: detection (listener, watcher) → events → incidents → outbox → Slack."""
