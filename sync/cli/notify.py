"""`talks notify`, and the --notify / --site-url options `talks sync` shares: organizers
are told, once, what is to do, what is new and what was solved (sync.ops.notify)."""
from __future__ import annotations

import logging
import sys

import click

from . import logs, terminal
from .logs import configure_logging
from .options import EXIT_FAILURE, db_option, fail_cleanly, say_error, stops_on_signals

log = logging.getLogger("talks.notify")


def notify_options(fn):
    fn = click.option("--site-url", metavar="URL",
                      help="The site's address (https://talks.example.org): each line links its talk's page. "
                           "Default: TALKS_SITE_URL; without either, lines name the talk's code only.")(fn)
    return click.option("--notify", "notify", multiple=True, metavar="URL",
                        help="Send what changed to this Apprise URL (json://, mailto://, ntfy://, tgram://, ...; "
                             "repeatable), besides those in TALKS_NOTIFY (space-separated). URLs hold secrets: "
                             "prefer the variable, which no process listing shows.")(fn)


def notify_setup(notify: tuple[str, ...], site: str | None):
    """(the URLs, the site's address), checked before anything runs: a bad one is a usage error."""
    from sync.ops.notify import NotifyConfigError, from_sources, site_url

    try:
        return from_sources(notify), site_url(site)
    except NotifyConfigError as exc:
        raise click.UsageError(str(exc)) from None


def _counts(digest) -> str:
    return digest.title.removeprefix("talks: ")


def report_deliveries(report) -> None:
    """One log line per target: INFO when sent, WARNING when it failed (retried next run)."""
    for delivery in report.deliveries:
        if delivery.error:
            logs.event(logging.WARNING, f"could not notify {delivery.label} ({delivery.error}); "
                                        "its events go out with the next run", step="notify", error=delivery.error)
        else:
            logs.event(logging.INFO, f"notified {delivery.label}: {_counts(delivery.digest)}", step="notify")


def notify_after_sync(db_path: str, urls, site) -> None:
    """After a sync, ok or failed (a failure is news too), under the lock the sync held.
    Never fails the sync: what could not be said is said at the next run."""
    from sync.ops.notify import run_notify

    try:
        report_deliveries(run_notify(db_path, urls, site=site, lock_held=True))
    except Exception as exc:  # a damaged file, a full disk: the sync's own outcome stands
        from sync.core.redact import redact

        logs.event(logging.WARNING, f"could not notify: {redact(exc)}", step="notify", error=redact(exc))


@click.command()
@db_option
@notify_options
@click.option("--max-age", default="36h", show_default=True, metavar="AGE",
              help="The job is unhealthy unless a sync succeeded within this long (as `talks status`).")
@click.option("--dry-run", is_flag=True, help="Print the message each target would get now; change and send nothing.")
@click.option("-v", "--verbose", is_flag=True, help="Log each delivery, sent or not.")
@click.option("-q", "--quiet", is_flag=True, help="Log only failures (away from a terminal, the default in text).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one object a line on stderr, as `talks sync --log-format json`.")
@click.option("--now", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]), default=None,
              hidden=True, help="Judge health as of this moment (tests); default: now.")
@fail_cleanly
@stops_on_signals
def notify(db_path, notify, site_url, max_age, dry_run, verbose, quiet, log_format, now):
    """Tell organizers what changed: one message per target, only when something did.

    Reads what the syncs left (the reports, the ledger, the job's health), sends each
    Apprise URL (--notify, TALKS_NOTIFY) one digest of what it has not been told yet
    (to do, new recordings, solved), and remembers that in the database. A failed
    delivery is recorded and its events go out with the next run. `talks sync --notify`
    does the same after each sync; run this on its own schedule to also hear of a sync
    that stopped running (no success within --max-age). URLs are never stored or shown.

    \b
    Exit 1 when a delivery failed (one line each on stderr),
    3 when a sync holds the lock.

    \b
    Examples:
      TALKS_NOTIFY='ntfy://talks-archive mailto://user:pass@example.org' talks notify
      talks notify --dry-run --site-url https://talks.example.org
    """
    import datetime as dt

    from sync.ops.notify import run_notify
    from sync.ops.status import parse_age

    try:
        age = parse_age(max_age)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-age") from None
    configure_logging(verbose, quiet, log_format)
    urls, site = notify_setup(notify, site_url)
    if not urls and not dry_run:
        raise click.UsageError("no notification URL: pass --notify URL or set TALKS_NOTIFY (or use --dry-run)")
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    report = run_notify(db_path, urls, site=site, max_age=age, now=now, dry_run=dry_run)
    if dry_run:
        for delivery in report.deliveries:
            terminal.echo_text(f"== to {delivery.label}\n{delivery.digest.text()}")
        if not report.deliveries:
            terminal.echo("nothing to send: no target has anything it was not told")
        return
    report_deliveries(report)
    if report.failed:
        say_error(f"{len(report.failed)} of {len(report.deliveries)} deliveries failed; "
                  "their events go out with the next run")
        sys.exit(EXIT_FAILURE)
