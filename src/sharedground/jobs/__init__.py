"""Background jobs: long work started from the admin pages, run by a separate worker.

Sending invitations and reminders, printing postal packs, exports and reports take from
seconds to many minutes, longer than a web request should, and must survive a restart of
the server. They run in `sharedground worker` (which `sharedground serve` starts by
default), queued with huey on the store's own database (`queue`), while the `job` table
(`model`, `records`) keeps what a person sees: state, progress, errors and the file made,
kept until deleted. `tasks` wraps the library calls the command line makes.

Modules: `model` (the job table), `records` (creating, claiming, finishing, recovering
jobs), `queue` (the huey instance on the store's database), `tasks` (what each kind of job
does), `files` (where finished files are kept), `worker` (the consumer and the supervisor
that `serve` uses).
"""
