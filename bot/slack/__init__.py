"""Slack plumbing: the Bolt app, serving (Socket Mode / HTTP), user groups, follow, audit posts."""
