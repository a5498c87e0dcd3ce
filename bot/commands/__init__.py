"""Allow-listed commands (`[[commands]]`, `[[command_sources]]`): what `/sup commands` lists and
`/sup run` runs on this host as argv. Not scheduled jobs: those are `bot/scheduler/`."""
