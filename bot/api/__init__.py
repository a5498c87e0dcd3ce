"""The JSON HTTP API (`/api/v1`) for scripts and dashboards: same services, auth and audit."""
