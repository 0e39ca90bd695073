"""The task worker's periodic jobs (knowledge/periodic.py): each runs at the worker's start
and then every interval; one that fails is tried again at its next turn, and the others run
regardless. (A real worker running the events' maintenance: tests/test_events_crash.py.)"""

from knowledge import periodic


class Blip(Exception):
    pass


def test_a_failing_job_runs_again_and_never_stops_the_others(monkeypatch):
    monkeypatch.setattr(periodic, "_jobs", [])
    runs = []

    def flaky():
        runs.append("flaky")
        if runs.count("flaky") == 1:
            raise Blip

    periodic.register(flaky, lambda: 0)
    periodic.register(lambda: runs.append("steady"), lambda: 0)
    periodic.register(flaky, lambda: 0)  # registered once only
    next_runs = {}
    periodic.run_due(next_runs, now=0)
    periodic.run_due(next_runs, now=float("inf"))
    assert runs == ["flaky", "steady", "flaky", "steady"]


def test_a_job_waits_for_its_interval(monkeypatch):
    monkeypatch.setattr(periodic, "_jobs", [])
    runs = []
    periodic.register(lambda: runs.append(1), lambda: 3600)
    next_runs = {}
    assert periodic.run_due(next_runs, now=0) > 3500  # ran at once; the next in an hour
    periodic.run_due(next_runs, now=1)
    assert runs == [1]


def test_the_events_maintenance_is_registered():
    from events import maintenance

    assert maintenance.run in [job for job, _ in periodic._jobs]
