"""The nightly job keeps the archive: .github/workflows/sync.yml run here, step by step under
its `if:` conditions (tests/nightly_job.py), with stand-in `gh` (the release "database" is a
folder) and `gcloud`, and the real `talks` fed the bundled snapshot.

The kept database never goes backwards: a failed restore stops the job before the sync and
nothing is uploaded; only a missing release starts a new archive, once; a night's file that
lost runs, decisions, changes or talks is refused; each night leaves a dated copy, the
newest KEEP_NIGHTS are kept, and the README's roll-back command makes one of them the
database the next night starts from."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.nightly_job import ROOT, NightlyJob, db_counts

pytestmark = pytest.mark.slow  # real syncs and the job's scripts as processes

NIGHTS = [f"202612{day:02d}T031700Z" for day in range(1, 8)]
KEPT_STEPS = ("Sync", "Status", "Keep the database (continuity check, dated copy, talks.db replaced)",
              "Publish to Cloud Run")
KEEP = "Keep the database (continuity check, dated copy, talks.db replaced)"
RESTORE = "Restore the kept database"
WRITES = ("upload", "create", "delete-asset")


@pytest.fixture
def job(tmp_path) -> NightlyJob:
    return NightlyJob(tmp_path)


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> list[bytes]:
    """The kept database after one, two and three nights (1, 2, 3 runs), as files' bytes."""
    folder = tmp_path_factory.mktemp("archives")
    job, db, files = NightlyJob(folder / "job"), folder / "talks.db", []
    for _ in range(3):
        done = job.shell(f"talks sync --db {shlex.quote(str(db))} --source api -q && "
                         f"python -m sync copy-db {shlex.quote(str(db))} {shlex.quote(str(folder / 'copy.db'))}")
        assert done.returncode == 0, done.stderr
        files.append((folder / "copy.db").read_bytes())
        (folder / "copy.db").unlink()
    return files


def seed(job: NightlyJob, archives: list[bytes]) -> None:
    """A release as the nights NIGHTS[0], NIGHTS[1], ... left it, one archive each."""
    job.release.mkdir()
    for night, data in zip(NIGHTS, archives):
        (job.release / f"talks-{night}.db").write_bytes(data)
    (job.release / "talks.db").write_bytes(archives[-1])


def writes(job: NightlyJob) -> list[list[str]]:
    return [c for c in job.calls("gh") if c[2] in WRITES]


def dated(job: NightlyJob) -> list[str]:
    return sorted(name for name in job.assets() if name != "talks.db")


def test_the_first_night_starts_the_archive_once_and_the_next_night_continues_it(job, tmp_path):
    first = job.run(NIGHTS[0])
    assert not first.failed, first.output
    assert "this is the first night, the sync starts a new archive" in first.step(RESTORE).output
    assets = job.assets()
    assert sorted(assets) == [f"talks-{NIGHTS[0]}.db", "talks.db"]
    assert assets["talks.db"] == assets[f"talks-{NIGHTS[0]}.db"]
    assert db_counts(assets["talks.db"], tmp_path)["sync_runs"] == 1
    assert [c[2] for c in writes(job)] == ["create"]  # both assets in the one call that creates the release

    job.clear_calls()
    second = job.run(NIGHTS[1])
    assert not second.failed, second.output
    assert "restore: db/talks.db is the kept database" in second.step(RESTORE).output
    assert not [c for c in writes(job) if c[2] == "create"]  # never a second new archive
    assert db_counts(job.assets()["talks.db"], tmp_path)["sync_runs"] == 2


@pytest.mark.parametrize("fault", [
    {"gh release view": "502"},
    {"gh release view": "rate-limit"},
    {"gh release view": "expired-token"},
    {"gh release download": "502"},
    {"gh release download": "rate-limit"},
    {"gh release download": "expired-token"},
    {"gh release download": "broken"},     # half the file arrives, then the transfer fails
    {"gh release download": "truncated"},  # half the file arrives and gh says nothing
], ids=lambda fault: "/".join(f"{k}={v}" for k, v in fault.items()))
def test_a_failed_restore_stops_the_job_before_the_sync_and_uploads_nothing(job, archives, fault):
    seed(job, archives[:1])
    kept = job.assets()
    job.faults(fault)

    night = job.run(NIGHTS[1])

    assert night.failed and night.step(RESTORE).outcome == "failure"
    assert [night.step(name).outcome for name in KEPT_STEPS] == ["skipped"] * 4
    assert job.calls("talks") == [] and job.calls("gcloud") == []  # no sync, no publish
    assert writes(job) == []
    assert job.assets() == kept  # every asset byte for byte as it was
    assert not (job.workspace / "db" / "talks.db").exists()  # no partial file left for a step to use
    output = night.step(RESTORE).output
    [value] = fault.values()
    expected = {"502": "HTTP 502: Bad Gateway", "rate-limit": "API rate limit exceeded",
                "expired-token": "HTTP 401: Bad credentials", "broken": "HTTP 502: Bad Gateway",
                "truncated": f"downloaded {len(kept['talks.db']) // 2} bytes of talks.db, but the release lists"}
    assert expected[value] in output
    assert "first night" not in output


def test_a_release_without_talks_db_stops_the_job_and_names_the_dated_copies(job, archives):
    seed(job, archives[:1])
    (job.release / "talks.db").unlink()  # e.g. an upload that failed after gh deleted the old asset
    night = job.run(NIGHTS[1])
    assert night.step(RESTORE).outcome == "failure" and night.step("Sync").outcome == "skipped"
    assert writes(job) == []
    assert ('the release "database" has no talks.db; roll back to a dated copy with contrib/github/roll-back-db.sh'
            in night.step(RESTORE).output)
    assert f"talks-{NIGHTS[0]}.db" in night.step(RESTORE).output


def test_normal_nights_keep_a_dated_copy_each_replace_talks_db_and_keep_the_newest_few(job, tmp_path):
    for night in NIGHTS[:4]:
        job.clear_calls()
        run = job.run(night, keep_nights="2")
        assert not run.failed, run.output
        assert "continuity ok" in run.step(KEEP).output or night == NIGHTS[0]

    assert dated(job) == [f"talks-{night}.db" for night in NIGHTS[2:4]]
    assets = job.assets()
    assert assets["talks.db"] == assets[f"talks-{NIGHTS[3]}.db"]
    runs = [db_counts(assets[name], tmp_path)["sync_runs"] for name in dated(job)]
    assert runs == [3, 4]  # each night's copy is that night's database
    # The last night: the dated copy goes up before talks.db is replaced (gh deletes the
    # old talks.db first), then the oldest copy beyond two is deleted.
    assert [(c[2], Path(c[4]).name, *c[5:]) for c in writes(job)] == [
        ("upload", f"talks-{NIGHTS[3]}.db"),
        ("upload", "talks.db", "--clobber"),
        ("delete-asset", f"talks-{NIGHTS[1]}.db", "--yes"),
    ]
    # and the night was published: the deployed context holds that night's database
    assert db_counts((job.deployed / "talks.db").read_bytes(), tmp_path)["sync_runs"] == 4


def test_without_the_variable_seven_dated_copies_are_kept(job, archives):
    seed(job, archives[:1] * 7)
    night = job.run("20261208T031700Z", gcp=False)
    assert not night.failed, night.output
    # and without GCP_CREDENTIALS nothing is published
    assert night.step("Publish to Cloud Run").outcome == "skipped" and job.calls("gcloud") == []
    assert dated(job) == [f"talks-{n}.db" for n in NIGHTS[1:]] + ["talks-20261208T031700Z.db"]


def test_a_night_that_lost_the_archive_is_refused_and_nothing_is_uploaded(job, archives, tmp_path):
    """The sync starts from nothing (as if a failed restore had passed for a first night):
    the continuity check refuses the file, the job fails, the release is untouched."""
    seed(job, archives[:2])
    organizer = tmp_path / "organizer.db"  # an organizer's pin, kept the next night
    organizer.write_bytes(archives[1])
    pin = job.shell(f"talks match pin --db {organizer} S07E01 abcdefghijk && "
                    f"python -m sync copy-db {organizer} {organizer}.kept")
    assert pin.returncode == 0, pin.stderr
    (job.release / "talks.db").write_bytes(Path(f"{organizer}.kept").read_bytes())
    kept = job.assets()
    assert db_counts(kept["talks.db"], tmp_path)["match_decisions"] == 1
    job.clear_calls()
    job.faults({"talks sync": "fresh"})

    night = job.run(NIGHTS[1])

    assert night.failed and night.step(KEEP).outcome == "failure"
    assert night.step("Sync").outcome == "success"  # the sync itself went fine
    output = night.step(KEEP).output
    assert re.search(r"continuity: \S+ lacks 2 runs that \S+ has \(ids 2, 3\)\.", output)  # a night, a pin
    assert re.search(r"continuity: \S+ has rewritten 1 run of \S+ \(id 1: started_at differs\)\.", output)
    assert re.search(r"continuity: \S+ lacks 1 decision that \S+ has \(talk_id \d+ video_id 'abcdefghijk'\)\.",
                     output)
    assert "keep: refused: tonight's database lost what the kept one has (above); nothing uploaded" in output
    assert writes(job) == [] and job.assets() == kept
    assert night.step("Publish to Cloud Run").outcome == "skipped" and job.calls("gcloud") == []


def test_a_failed_sync_keeps_its_run_row_and_publishes_nothing(job, archives, tmp_path):
    seed(job, archives[:1])
    job.faults({"talks sync": "fail"})
    night = job.run(NIGHTS[1])
    assert night.failed and night.step("Sync").outcome == "failure"
    assert night.step(KEEP).outcome == "success", night.output
    assert night.step("Publish to Cloud Run").outcome == "skipped" and job.calls("gcloud") == []
    assert db_counts(job.assets()["talks.db"], tmp_path)["sync_runs"] == 2  # the failed run is history too


def readme_roll_back_command() -> str:
    """The roll-back line the README documents (in a ```sh block)."""
    readme = (ROOT / "README.md").read_text()
    commands = [line.strip() for block in re.findall(r"```sh\n(.*?)```", readme, re.S)
                for line in block.splitlines() if "roll-back-db.sh" in line and not line.lstrip().startswith("#")]
    [command] = commands
    return command


def test_the_documented_roll_back_makes_a_dated_copy_the_next_nights_start(job, archives, tmp_path):
    seed(job, archives)
    before = job.assets()
    command = readme_roll_back_command()
    words = shlex.split(command)
    assert words[0] == "contrib/github/roll-back-db.sh" and re.fullmatch(r"talks-\d{8}T\d{6}Z\.db", words[1])
    job.clear_calls()

    done = job.shell(command.replace(words[1], f"talks-{NIGHTS[0]}.db"))

    assert done.returncode == 0, done.stderr
    after = job.assets()
    assert after["talks.db"] == before[f"talks-{NIGHTS[0]}.db"]
    assert {k: v for k, v in after.items() if k != "talks.db"} == {k: v for k, v in before.items() if k != "talks.db"}
    assert [c[2] for c in writes(job)] == ["upload"]
    # The next night starts from the rolled-back file and the check compares with it.
    night = job.run(NIGHTS[3], gcp=False)
    assert not night.failed, night.output
    assert db_counts(job.assets()["talks.db"], tmp_path)["sync_runs"] == 2
    assert "(runs 1 -> 2," in night.step(KEEP).output


@pytest.mark.parametrize("name, sentence", [
    ("talks.db", "is not a dated copy"),
    ("talks-20200101T000000Z.db", 'the release "database" has no talks-20200101T000000Z.db; its dated copies are:'),
])
def test_a_roll_back_to_something_else_changes_nothing(job, archives, name, sentence):
    seed(job, archives[:1])
    before = job.assets()
    done = job.shell(f"contrib/github/roll-back-db.sh {name}")
    assert done.returncode == 1 and sentence in done.stderr
    assert writes(job) == [] and job.assets() == before


def test_an_upload_that_fails_after_gh_deleted_talks_db_leaves_tonights_dated_copy_to_roll_back_to(job, archives,
                                                                                                  tmp_path):
    seed(job, archives[:1])
    job.faults({"gh release upload --clobber": "502"})
    night = job.run(NIGHTS[1], gcp=False)
    assert night.failed and night.step(KEEP).outcome == "failure"
    assert dated(job) == [f"talks-{NIGHTS[0]}.db", f"talks-{NIGHTS[1]}.db"] and "talks.db" not in job.assets()

    job.faults({})
    assert job.run(NIGHTS[2], gcp=False).step(RESTORE).outcome == "failure"  # no talks.db: stop, do not start anew
    assert job.shell(f"contrib/github/roll-back-db.sh talks-{NIGHTS[1]}.db").returncode == 0
    night = job.run(NIGHTS[2], gcp=False)
    assert not night.failed, night.output
    assert db_counts(job.assets()["talks.db"], tmp_path)["sync_runs"] == 3


def test_with_the_notify_secret_a_failed_night_is_told_once_and_its_end_the_next_night(job):
    """What was told lives in the kept database: the night after a failed one restores it,
    so the end of the failure is told, and the failure is not told again."""
    from tests.receiver import running_receiver

    with running_receiver() as hook:
        secret = {"TALKS_NOTIFY": hook.url("nightly", "workflow-secret-0815")}
        assert not job.run(NIGHTS[0], more_secrets=secret).failed
        assert hook.attempts == 0  # the snapshot's archive has nothing to do
        job.faults({"talks sync": "fail"})
        failed = job.run(NIGHTS[1], more_secrets=secret)
        assert failed.step("Sync").outcome == "failure"
        [message] = hook.messages
        assert message["title"] == "talks: 1 to do" and "The scheduled sync is unhealthy" in message["message"]
        job.faults({})
        assert not job.run(NIGHTS[2], more_secrets=secret).failed
        assert [m["message"] for m in hook.messages[1:]] == ["Solved:\n- The scheduled sync is healthy again."]
        assert "workflow-secret-0815" not in failed.output
