"""The GIL released while the engine works: threads at once, and Ctrl-C between cases."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import ssrnet_parity as sp
from ssrnet_parity import _native

from conftest import MODEL, REPO


def test_four_threads_checking_at_once_get_correct_independent_reports() -> None:
    alone = {b: sp.check(backends=b).to_dict() for b in ("ort", "tract", "rten", "candle")}
    reports: dict[str, dict] = {}
    errors: list[BaseException] = []

    def check(backend: str) -> None:
        try:
            reports[backend] = sp.check(backends=backend).to_dict()
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=check, args=(b,)) for b in alone]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert reports == alone
    assert all(r["verdict"] == "pass" and r["cases"] == 38 for r in reports.values())


def test_threads_at_once_each_get_their_own_warnings_only() -> None:
    # A model other than the one the demo goldens were recorded with warns; the demo's own does not.
    other = REPO / "models" / "ssrnet_legacy_static.onnx"
    warned: dict[int, list[str]] = {}

    def check(i: int) -> None:
        model = other if i % 2 else MODEL
        argv = ["check", f"--model={model}", "--backend=ort", "--format=json"]
        warned[i] = _native.document(argv)[2]

    threads = [threading.Thread(target=check, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(6):
        if i % 2:
            assert len(warned[i]) == 1 and "is not the model the golden set" in warned[i][0], warned[i]
        else:
            assert warned[i] == [], warned[i]


def test_other_python_threads_run_while_a_check_works() -> None:
    ticks = 0
    done = threading.Event()

    def tick() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        assert sp.check(backends="tract").passed
    finally:
        done.set()
        ticker.join()
    assert ticks > 10


def test_ctrl_c_stops_a_1000_case_check_between_cases(tmp_path: Path) -> None:
    golden = tmp_path / "golden"
    sp.record(MODEL, golden, random=1000, seed=3)
    script = (
        "import sys, ssrnet_parity as sp\n"
        "print('started', flush=True)\n"
        "try:\n"
        "    sp.check(sys.argv[1], sys.argv[2])\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "    sys.exit(130)\n"
        "print('finished', flush=True)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(MODEL), str(golden)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "started\n"
    time.sleep(1.5)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    stopped_in = time.monotonic() - sent
    assert (child.returncode, out) == (130, "interrupted\n"), err
    # Four backends over 1,000 cases take about 8 s here: the run stopped at its next cases.
    assert stopped_in < 2, stopped_in
