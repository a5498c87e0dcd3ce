"""High availability: several `serve` replicas on one shared state (leases, heartbeats)."""
