"""The `/sup` verbs jobs, job and schedule, plugged into the dispatcher.

bot/wiring.py plugs `Verbs(jobs).handlers()` into the dispatcher. Reads bring the record up to date
first (`JobService.reconcile_jobs`): with no runner alive, nobody else would.
"""

from __future__ import annotations

from bot import errors
from bot.auth import Access
from bot.dispatch import Handler
from bot.grammar import Command
from bot.replies import Reply
from bot.scheduler.jobs import JobService
from bot.scheduler.laravel_jobs import LaravelJobs
from bot.scheduler.laravel_verbs import is_laravel_run, laravel_run
from bot.scheduler.render import (
    JobHistoryReply,
    JobOutputReply,
    JobRunReply,
    JobsReply,
    ScheduleRunReply,
)
from bot.usertext import quote

QUICK_WAIT = 5.0  # a job that finishes within this is answered with its result


def jobs_reply(jobs: JobService, laravel: LaravelJobs, access: Access) -> JobsReply:
    """supbot's jobs and the Laravel tasks the asker may see (`/sup jobs`, the CLI, the API)."""
    jobs.reconcile_jobs()
    return JobsReply(
        tuple(jobs.list_jobs(access)),
        jobs.runner_status(),
        tuple(laravel.views(access)),
        tuple(laravel.errors),
    )


class Verbs:
    def __init__(self, jobs: JobService, laravel: LaravelJobs) -> None:
        self.jobs, self.laravel = jobs, laravel  # laravel: the [[job_sources]] tasks

    def _tz(self, name: str) -> str:
        job = self.jobs.launcher.job(name)
        return job.timezone if job else self.jobs.settings.timezone

    def handlers(self) -> dict[str, Handler]:
        """The verbs this feature adds to `/sup`."""
        return {"jobs": self.jobs_list, "job": self.job, "schedule": self.schedule}

    def jobs_list(self, access: Access, command: Command) -> Reply:
        return jobs_reply(self.jobs, self.laravel, access)

    def job(self, access: Access, command: Command) -> Reply:
        if is_laravel_run(self.laravel, self.jobs, command):
            return laravel_run(self.laravel, self.jobs, access, command)
        sub, name = command.args[0].lower(), command.args[1]
        if sub == "run" and len(command.args) == 2:
            run = self.jobs.wait(self.jobs.run_now(access, name).id, QUICK_WAIT)
            output = self.jobs.run_output(access, run.id) if run.finished else ""
            return JobRunReply(run, self._tz(name), access.actor.mention, output)
        if sub == "history" and len(command.args) == 2:
            self.jobs.reconcile_jobs()
            runs = tuple(self.jobs.history(access, name))
            can_run = access.allows_named("job_run", "jobs", name)
            return JobHistoryReply(name, self._tz(name), runs, can_run)
        if sub == "history":
            raw = command.args[2].lstrip("#")
            if not raw.isdigit():
                raise errors.UsageError(f"{quote(raw, 20)} is not a run number, e.g. `42`.")
            run = self.jobs.get_run(access, int(raw))
            return JobOutputReply(run, self._tz(run.job), self.jobs.run_output(access, run.id))
        raise errors.UsageError("Usage: `job run <name>` or `job history <name> [run-id]`")

    def schedule(self, access: Access, command: Command) -> Reply:
        if (
            command.args[0].lower() != "run"
            or not is_laravel_run(self.laravel, self.jobs, command)
            and len(command.args) > 1
        ):
            raise errors.UsageError("Usage: `schedule run [@node]`")
        if len(command.args) == 2:
            return laravel_run(self.laravel, self.jobs, access, command)
        runs = self.jobs.schedule_run(access)
        done = tuple(self.jobs.wait(r.id, QUICK_WAIT) if r.id else r for r in runs)
        return ScheduleRunReply(done, self.jobs.settings.timezone, access.actor.mention)
