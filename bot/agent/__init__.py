"""Agents: `supbot agent --node NAME` runs the jobs and commands addressed to its node."""
