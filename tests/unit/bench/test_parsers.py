"""The pure parts of the section modules: phase mapping, summaries, tool-output parsers."""

from __future__ import annotations

import pytest

from bench.cli_latency import parse_importtime
from bench.deploy import PHASES, Run, checks, product_phases, summarize_runs
from bench.profile_deploy import apt_history
from bench.timing import TimingObserver


def _observer_with(steps: dict[tuple[str, int], float]) -> TimingObserver:
    observer = TimingObserver(origin=0.0)
    for (command, index), seconds in steps.items():
        observer.step_started(command, index, 0, "")
        observer.step_finished(command, index, 0, "", seconds)
    return observer


def test_observer_names_steps_by_their_enum_value() -> None:
    observer = _observer_with({("provision", 2): 4.0, ("configure", 1): 10.0})
    assert observer.seconds("provision") == {"pulumi_up": 4.0}
    assert observer.seconds("configure") == {"install_docker": 10.0}


def test_product_phases_group_steps_and_put_the_rest_in_other() -> None:
    observer = _observer_with(
        {
            ("provision", 1): 0.5,  # prepare_stack
            ("provision", 2): 4.0,  # pulumi_up
            ("provision", 5): 0.2,  # wait_ssh
            ("provision", 6): 1.5,  # wait_cloud_init
            ("configure", 1): 12.0,
            ("configure", 2): 3.0,
        }
    )
    phases = product_phases(observer, total=21.7)
    assert phases["launch"] == pytest.approx(4.5)
    assert phases["ssh"] == pytest.approx(0.2)
    assert phases["cloud_init"] == pytest.approx(1.5)
    assert phases["docker"] == pytest.approx(12.0)
    assert phases["compose"] == pytest.approx(3.0)
    assert phases["other"] == pytest.approx(0.5)
    assert set(phases) == set(PHASES)


def test_release_and_run_steps_are_the_tracker_phases() -> None:
    observer = _observer_with(
        {
            ("release", 1): 0.1,  # render_release
            ("release", 2): 0.8,  # upload_release
            ("release", 3): 1.1,  # load_image
            ("run", 1): 2.0,  # start_tracker
            ("run", 2): 0.3,  # wait_healthy
            ("destroy", 1): 5.0,  # not a deploy step
        }
    )
    phases = product_phases(observer, total=4.5)
    assert phases["release"] == pytest.approx(2.0)
    assert phases["run"] == pytest.approx(2.3)
    assert phases["other"] == pytest.approx(0.2)
    assert observer.seconds("run") == {"start_tracker": 2.0, "wait_healthy": 0.3}


def _run(kind: str, rep: int, scale: float) -> Run:
    phases = {phase: scale for phase in PHASES}
    rerelease = {"release": scale, "run": 2 * scale, "total": 3 * scale}
    return Run(kind, rep, phases, total=scale * len(PHASES), destroy=scale, rerelease=rerelease)


def test_summarize_runs_gives_ratio_of_medians_and_paired_ratios() -> None:
    runs = [_run("raw", 1, 1.0), _run("product", 1, 1.2), _run("raw", 2, 2.0), _run("product", 2, 2.6)]
    summary = summarize_runs(runs)
    total = summary["phases"]["total"]
    assert total["raw"]["median"] == pytest.approx(1.5 * len(PHASES))
    assert total["product"]["median"] == pytest.approx(1.9 * len(PHASES))
    assert total["ratio_of_medians"] == pytest.approx(1.9 / 1.5)
    assert total["paired_ratios"] == pytest.approx([1.2, 1.3])
    assert summary["phases"]["destroy"]["excess_median_s"] == pytest.approx(0.4)
    assert summary["phases"]["rerelease.total"]["raw"]["median"] == pytest.approx(4.5)
    assert summary["phases"]["until_ssh"]["product"]["median"] == pytest.approx(3.8)


def test_the_deploy_checks_hold_the_targets_of_issue_15() -> None:
    runs = [_run("raw", 1, 1.0), _run("product", 1, 1.1), _run("raw", 2, 1.0), _run("product", 2, 1.1)]
    by_name = {check.name: check for check in checks(summarize_runs(runs))}

    total = by_name["deploy.total (to Running)"]
    assert (total.target, total.passed) == (1.15, True)
    assert (by_name["destroy.total"].target, by_name["destroy.total"].passed) == (1.25, True)
    cloud_init = by_name["deploy.cloud_init"]
    assert (cloud_init.target_on, cloud_init.target, cloud_init.passed) == ("excess", 0.5, True)
    assert by_name["deploy.compose"].target == 0.5
    assert by_name["deploy.docker"].passed is None  # informational
    assert by_name["rerelease.total"].ratio == pytest.approx(1.1)


def test_parse_importtime_orders_by_cumulative_time_with_depth() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       100 |        100 |   rich.style",
            "import time:       500 |       9000 | typer",
            "import time:        50 |        150 |     rich.color",
            "noise line",
        ]
    )
    rows = parse_importtime(stderr, top=2)
    assert rows == [
        {"module": "typer", "cumulative_ms": 9.0, "self_ms": 0.5, "depth": 0},
        {"module": "rich.color", "cumulative_ms": 0.15, "self_ms": 0.05, "depth": 2},
    ]


def test_apt_history_reads_command_and_duration() -> None:
    text = (
        "\nStart-Date: 2026-11-28  10:51:03\n"
        "Commandline: /usr/bin/apt-get install python3-apt -y -q\n"
        "Install: python3-apt:amd64 (2.9), distro-info-data:amd64 (0.6, automatic)\n"
        "End-Date: 2026-11-28  10:51:05\n"
        "\nStart-Date: 2026-11-28  10:51:06\n"
        "Commandline: apt-get install docker.io\n"
        "End-Date: 2026-11-28  10:51:15\n"
    )
    entries = apt_history(text)
    assert entries == [
        {"commandline": "/usr/bin/apt-get install python3-apt -y -q", "seconds": 2.0, "installed": 2},
        {"commandline": "apt-get install docker.io", "seconds": 9.0, "installed": 0},
    ]
