"""What every supbot HTTP surface shares: body limits, timeouts, refusal logging, /healthz."""
