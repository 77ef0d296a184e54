"""deploy/: the Kubernetes manifests validate offline against the schemas `kubernetes-validate` carries, the
container build copies what the ort backend loads, and the Kubernetes and Slurm recipes, run as written, give
the report of one unsharded run. The tests do not build the image (no Docker engine runs on this machine, its
base images come from a registry it cannot reach, and deploy/build-without-registry takes about 10 minutes);
its runtime stage is rehearsed with the same two files at the same paths.

Where a Slurm answers (`tools/test` starts a single-node one with tools/slurm-local where it can: root and
apt-get), deploy/slurm/submit.sh queues a REAL 4-task job array and its merge. No Kubernetes cluster can run
here, so that engine is SIMULATED, and so is Slurm's too (always, and in place of the real run where no Slurm
answers): each recipe's shard command runs in 4 local processes with the variables the engine sets
(JOB_COMPLETION_INDEX for an Indexed Job; SLURM_ARRAY_TASK_ID / _MIN / _COUNT for an array, here numbered 1-4
to exercise the offset), then its merge command. Every merged report must equal `check`'s own, byte for byte."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from conftest import REPO

DEPLOY = REPO / "deploy"
K8S_VERSION = "1.37.0"
MODEL = REPO / "models" / "ssrnet_legacy_dynamic.onnx"
GOLDEN = REPO / "fixtures" / "golden"


def binary() -> Path:
    """The CLI the recipes run: $SSRNET_PARITY_BIN, else the one `cargo test` or `tools/check` built."""
    given = os.environ.get("SSRNET_PARITY_BIN")
    target = REPO / os.environ.get("CARGO_TARGET_DIR", "target")  # cargo's own rule: relative to the workspace
    candidates = [Path(given)] if given else [target / "debug" / "ssrnet-parity", target / "release" / "ssrnet-parity"]
    for c in candidates:
        if c.is_file():
            return c
    msg = f"no ssrnet-parity binary at {', '.join(map(str, candidates))} (run cargo build first)"
    if os.environ.get("SSRNET_PARITY_STRICT") == "1":
        pytest.fail(f"SSRNET_PARITY_STRICT=1: {msg}")
    pytest.skip(msg)


def manifests() -> list[tuple[Path, dict]]:
    docs = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        docs.extend((path, d) for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def job(name: str) -> dict:
    return next(d for _, d in manifests() if d["kind"] == "Job" and d["metadata"]["name"] == name)


def test_kubernetes_manifests_validate_against_the_schemas():
    docs = manifests()
    assert {d["kind"] for _, d in docs} == {"Job", "PersistentVolumeClaim"}
    for path, doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)  # raises on an unknown or mistyped field
    # An invalid field is caught (the validation can fail).
    broken = dict(job("ssrnet-parity-check"), spec=dict(job("ssrnet-parity-check")["spec"], completionMod="Indexed"))
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_the_indexed_job_passes_its_count_to_the_shards():
    spec = job("ssrnet-parity-check")["spec"]
    assert spec["completionMode"] == "Indexed"
    env = {e["name"]: e["value"] for e in spec["template"]["spec"]["containers"][0]["env"]}
    assert int(env["SSRNET_PARITY_SHARD_COUNT"]) == spec["completions"] == spec["parallelism"]
    assert "--shard auto" in spec["template"]["spec"]["containers"][0]["args"][0]


def test_the_container_build_ships_the_binary_and_the_pinned_onnxruntime():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", text, re.M)
    assert [s for _, s in stages] == ["build", "runtime"], "multi-stage: compile, then a slim runtime"
    library = re.search(r'LIBRARY_FILE: &str = "([^"]+)"', (REPO / "crates/backend-ort/src/provision.rs").read_text())[1]
    assert f"COPY --from=build /{library} /opt/ssrnet-parity/lib/{library}" in text
    assert f"ENV ORT_DYLIB_PATH=/opt/ssrnet-parity/lib/{library}" in text
    assert "COPY --from=build /ssrnet-parity /usr/local/bin/ssrnet-parity" in text
    pin = re.search(r"^onnxruntime==(\S+)", (REPO / "scripts/requirements.txt").read_text(), re.M)[1]
    assert f"onnxruntime=={pin}" in text
    rust = re.search(r'rust-version = "([\d.]+)"', (REPO / "Cargo.toml").read_text())[1]
    assert stages[0][0].startswith(f"rust:{rust}"), "the builder has the workspace's rustc"
    # .cargo/config.toml's PROTOC shim fetches protoc with pip, which the builder's python3 lacks.
    assert "protobuf-compiler" in text and "ENV PROTOC=/usr/bin/protoc" in text
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {"target/", ".venv/"} <= set(ignored), "the build context leaves out the build output and the venv"


def test_the_runtime_stage_layout_runs_check_with_nothing_but_its_two_files(tmp_path):
    """The runtime stage, rehearsed without building the image: the binary and the wheel's libonnxruntime
    at the paths the Dockerfile copies them to, ORT_DYLIB_PATH as it sets it, an empty HOME (no
    provisioning cache) and no PATH to pip: `check` on the ort backend must pass without provisioning
    anything, and the binary must need no shared library beyond the C and C++ runtimes a slim Debian
    image has."""
    text = (DEPLOY / "Dockerfile").read_text()
    lib_dest = re.search(r"^ENV ORT_DYLIB_PATH=(\S+)", text, re.M)[1]
    bin_dest = re.search(r"^COPY --from=build /ssrnet-parity (\S+)", text, re.M)[1]
    import onnxruntime

    wheel_lib = Path(onnxruntime.__file__).parent / "capi" / Path(lib_dest).name
    assert wheel_lib.is_file(), f"the pinned wheel has no {wheel_lib.name}"
    image = {dest: tmp_path / "image" / dest.lstrip("/") for dest in (bin_dest, lib_dest)}
    for src, dest in [(binary(), bin_dest), (wheel_lib, lib_dest)]:
        image[dest].parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, image[dest])
    (tmp_path / "home").mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "ORT_DYLIB_PATH": str(image[lib_dest])}
    proc = subprocess.run(
        [str(image[bin_dest]), "check", "--model", str(MODEL), "--golden", str(GOLDEN), "--backend", "ort"],
        env=env, capture_output=True, text=True, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "provisioning" not in proc.stderr and not any((tmp_path / "home").iterdir()), proc.stderr
    needed = subprocess.run(["ldd", str(image[bin_dest])], capture_output=True, text=True, check=True).stdout
    names = {line.split()[0] for line in needed.splitlines() if line.strip()}
    allowed = {"linux-vdso.so.1", "libgcc_s.so.1", "libm.so.6", "libc.so.6", "libstdc++.so.6", "libpthread.so.0", "libdl.so.2", "/lib64/ld-linux-x86-64.so.2"}
    assert names <= allowed, f"the binary needs {sorted(names - allowed)}, which the runtime stage does not install"


def run_shell(script: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(script, env=env, capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, f"{script[:2]} exited {proc.returncode}: {proc.stderr[-2000:]}"


def single_run(bin_path: Path) -> str:
    proc = subprocess.run(
        [str(bin_path), "check", "--model", str(MODEL), "--golden", str(GOLDEN), "--format", "json"],
        capture_output=True, text=True, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def base_env(bin_path: Path, results: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "JOB_COMPLETION")) and k != "SSRNET_PARITY_SHARD_COUNT"}
    env.update(PATH=f"{bin_path.parent}{os.pathsep}{env.get('PATH', '')}", MODEL=str(MODEL), GOLDEN=str(GOLDEN), RESULTS=str(results))
    return env


def test_kubernetes_recipe_simulated_in_four_processes_merges_to_the_single_run(tmp_path):
    bin_path = binary()
    print("SIMULATED Kubernetes Indexed Job: 4 local processes with JOB_COMPLETION_INDEX 0-3")
    check, merge = job("ssrnet-parity-check"), job("ssrnet-parity-merge")
    container = check["spec"]["template"]["spec"]["containers"][0]
    count = check["spec"]["completions"]
    env = base_env(bin_path, tmp_path)
    env["SSRNET_PARITY_SHARD_COUNT"] = next(e["value"] for e in container["env"] if e["name"] == "SSRNET_PARITY_SHARD_COUNT")
    for index in range(count):
        run_shell([*container["command"], container["args"][0]], dict(env, JOB_COMPLETION_INDEX=str(index)))
    assert sorted(p.name for p in tmp_path.glob("shard-*.json")) == [f"shard-{k}.json" for k in range(count)]
    m = merge["spec"]["template"]["spec"]["containers"][0]
    run_shell([*m["command"], m["args"][0]], env)
    assert (tmp_path / "report.json").read_text() == single_run(bin_path)


def test_slurm_recipe_simulated_in_four_processes_merges_to_the_single_run(tmp_path):
    bin_path = binary()
    print("SIMULATED Slurm job array: 4 local processes with SLURM_ARRAY_TASK_ID 1-4, MIN 1, COUNT 4")
    array = DEPLOY / "slurm" / "check-array.sbatch"
    for script in (array, DEPLOY / "slurm" / "merge.sbatch", DEPLOY / "slurm" / "submit.sh"):
        subprocess.run(["bash", "-n", str(script)], check=True)
    assert re.search(r"^#SBATCH --array=0-3$", array.read_text(), re.M)
    env = base_env(bin_path, tmp_path)
    for task in range(1, 5):
        run_shell(["bash", str(array)], dict(env, SLURM_ARRAY_TASK_ID=str(task), SLURM_ARRAY_TASK_MIN="1", SLURM_ARRAY_TASK_COUNT="4"))
    run_shell(["bash", str(DEPLOY / "slurm" / "merge.sbatch")], env)
    assert (tmp_path / "report.json").read_text() == single_run(bin_path)


def slurm_answers() -> bool:
    """A Slurm controller that answers and has a node that can run jobs."""
    if shutil.which("sinfo") is None:
        return False
    proc = subprocess.run(["sinfo", "--noheader", "--states=idle,mixed,allocated", "-o", "%N"],
                          capture_output=True, text=True, timeout=30)
    return proc.returncode == 0 and proc.stdout.strip() != ""


def wait_for_jobs(job_ids: list[str], timeout_s: float = 600.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        proc = subprocess.run(["squeue", "--noheader", "-j", ",".join(job_ids), "-o", "%i %T %r"],
                              capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.strip() == "":
            return
        time.sleep(1)
    pytest.fail(f"Slurm jobs {job_ids} still queued after {timeout_s:.0f} s: {proc.stdout}")


@pytest.mark.skipif(not slurm_answers(), reason="no Slurm answers here (tools/slurm-local starts one as root); "
                    "the simulated Slurm test stands in")
def test_slurm_recipe_as_a_real_job_array_merges_to_the_single_run(tmp_path):
    bin_path = binary()
    results = tmp_path / "results"
    print("REAL Slurm job array: deploy/slurm/submit.sh on the local Slurm (4 tasks, then the merge)")
    proc = subprocess.run(["bash", str(DEPLOY / "slurm" / "submit.sh")], env=base_env(bin_path, results),
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    merge_id = proc.stdout.split()[-1].split(";")[0]
    array_id = re.search(r"afterok:(\d+)", subprocess.run(
        ["scontrol", "show", "job", merge_id], capture_output=True, text=True).stdout)
    wait_for_jobs([merge_id] + ([array_id.group(1)] if array_id else []))
    logs = {p.name: p.read_text() for p in tmp_path.glob("ssrnet-parity-*.log")}
    assert sorted(p.name for p in results.glob("shard-*.json")) == [f"shard-{k}.json" for k in range(4)], logs
    assert len([n for n in logs if n.startswith("ssrnet-parity-check-")]) == 4, logs
    assert (results / "report.json").is_file(), logs
    assert (results / "report.json").read_text() == single_run(bin_path)
