"""Running one argv on this host, for jobs and allow-listed commands alike: spawning, the output
spool, timeouts that kill the process group, and whether a process or group is still alive."""
