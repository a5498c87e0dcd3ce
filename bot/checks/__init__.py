"""Health checks beyond crashes: memory, CPU and HTTP probes per program glob ([[checks]])."""
