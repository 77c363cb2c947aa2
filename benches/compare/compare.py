"""zkinfer and EZKL side by side on the same ONNX models and inputs (run it through run.sh).

Per model and per tool: SRS, compile (+ calibration) and key generation, proof, verification,
each step a process of its own (wall time and peak RSS of that process, plus the time the tool reports
for its own work), proof size, k, rows, and the proven outputs against onnxruntime's float outputs.
Writes results/NAME.md (tables, EZKL ÷ zkinfer ratios) and results/NAME.json (every figure and run).

EZKL's steps run under limits (--ezkl-timeout, --ezkl-mem-gib, --ezkl-max-k): a step that runs out of
time or memory, or fails, ends EZKL's run on that model only. Its result is then a failure record
({"failed": true, "step", "reason", "k", "rows", ...}), zkinfer still runs, and the report shows EZKL as
"did not fit" with no ratios. zkinfer's steps run without limits, and any failure of theirs stops the
comparison.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = ROOT / "fixtures"


@dataclass
class Model:
    title: str
    onnx: str
    input: str
    calibration: str  # {"samples": [...]}: the same samples calibrate both tools


MODELS = {
    "mlp": Model("digits MLP", "digits_mlp.onnx", "digits/input_0.json", "digits/calibration.json"),
    "cnn": Model("digits CNN", "digits_cnn.onnx", "digits_cnn/input_0.json", "digits/calibration.json"),
    "lenet": Model("LeNet-5", "lenet5.onnx", "lenet5/input_0.json", "lenet5/calibration.json"),
    "sigmoid": Model("sigmoid MLP", "sigmoid_mlp.onnx", "sigmoid_mlp/input_0.json", "digits/calibration.json"),
    # MLPerf Tiny look-alikes (fixtures/make_mlperf_onnx.py, random weights) and the trained ResNet-8
    # (fixtures/make_graphs.py): not in the default --models; EZKL may not fit them in its limits.
    "ad": Model("MLPerf AD autoencoder (640)", "mlperf_onnx/ad_full.onnx", "mlperf_onnx/ad_full/input_0.json",
                "mlperf_onnx/ad_full/calibration.json"),
    "kws": Model("MLPerf KWS DS-CNN", "mlperf_onnx/kws_full.onnx", "mlperf_onnx/kws_full/input_0.json",
                 "mlperf_onnx/kws_full/calibration.json"),
    "vww": Model("MLPerf VWW MobileNetV1-0.25 96x96", "mlperf_onnx/vww_full.onnx", "mlperf_onnx/vww_full/input_0.json",
                 "mlperf_onnx/vww_full/calibration.json"),
    "resnet8": Model("MLPerf IC ResNet-8", "resnet8.onnx", "resnet8/input_0.json", "resnet8/calibration.json"),
    # Their int8 forms (fixtures/make_mlperf_onnx_int8.py: onnxruntime's quantize_static, QDQ, per
    # channel), on the float models' inputs; the calibration samples serve EZKL (zkinfer takes an int8
    # model's own integers). The reference is onnxruntime running the int8 model.
    "ad8": Model("MLPerf AD autoencoder (640), int8 QDQ", "mlperf_onnx/ad_full_int8.onnx",
                 "mlperf_onnx/ad_full/input_0.json", "mlperf_onnx/ad_full/calibration.json"),
    "kws8": Model("MLPerf KWS DS-CNN, int8 QDQ", "mlperf_onnx/kws_full_int8.onnx",
                  "mlperf_onnx/kws_full/input_0.json", "mlperf_onnx/kws_full/calibration.json"),
    "vww8": Model("MLPerf VWW MobileNetV1-0.25 96x96, int8 QDQ", "mlperf_onnx/vww_full_int8.onnx",
                  "mlperf_onnx/vww_full/input_0.json", "mlperf_onnx/vww_full/calibration.json"),
    "resnet8_int8": Model("MLPerf IC ResNet-8, int8 QDQ", "mlperf_onnx/resnet8_int8.onnx", "resnet8/input_0.json",
                          "resnet8/calibration.json"),
}
DEFAULT_MODELS = "mlp,cnn,lenet,sigmoid"


# ---------------------------------------------------------------------------------------------
# Running one step


def run_step(argv, env=None):
    """Run argv as a child process; return its wall time, peak RSS (MiB) and stdout's JSON, if any.

    The peak RSS is GNU time's (`/usr/bin/time -f %M`): a child forked straight from this Python process
    would report at least this process's RSS, which Linux carries across exec into ru_maxrss.
    """
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file, *map(str, argv)],
                              capture_output=True, text=True, env={**os.environ, **(env or {})})
        wall = time.perf_counter() - start
        rss_kib = int(rss_file.read_text().split()[-1]) if done.returncode == 0 else 0
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(map(str, argv))}\n{done.stderr[-4000:]}{done.stdout[-2000:]}")
    try:
        tool = json.loads(done.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        tool = None
    return {"wall_s": wall, "rss_mib": rss_kib / 1024, "tool": tool}


class StepFailed(Exception):
    """A limited step (an EZKL step) that did not finish: step is its name, record its failure record."""

    def __init__(self, step, record):
        super().__init__(f"{step}: {record['reason']}")
        self.step, self.record = step, record


# What a child that ran out of address space (RLIMIT_AS) says: Rust's allocation-failure abort,
# Python's MemoryError, a failed mmap / thread spawn, C++'s bad_alloc.
MEMORY_MARKERS = ("memory allocation of", "MemoryError", "Cannot allocate memory", "out of memory",
                  "std::bad_alloc", "failed to allocate")


def run_limited(argv, env=None, timeout_s=None, mem_gib=None):
    """Run argv as run_step does, but under a time and a memory limit, and without exiting on failure.

    Memory: RLIMIT_AS (address space, not resident memory) of mem_gib GiB, set in the child before exec
    and inherited by everything it starts. Time: timeout_s seconds of wall time, then the child's whole
    process group (its own session) is killed. None or 0: no limit.
    Returns run_step's {"wall_s", "rss_mib", "tool"} on success; otherwise {"failed": True, "reason",
    "wall_s" (until the failure), "rss_mib" (None if unknown), "returncode", "stderr_tail", "stdout_tail"}.
    """
    limit = int(mem_gib * 2**30) if mem_gib else None

    def set_limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        start = time.perf_counter()
        child = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file, *map(str, argv)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, **(env or {})}, start_new_session=True,
                                 preexec_fn=set_limit if limit else None)
        timed_out = False
        try:
            try:
                stdout, stderr = child.communicate(timeout=timeout_s or None)
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(child.pid, signal.SIGKILL)
                stdout, stderr = child.communicate()
        except BaseException:  # Ctrl-C or another error here: leave no child running
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            raise
        wall = time.perf_counter() - start
        # GNU time writes "Command exited with non-zero status N" or "Command terminated by signal N"
        # before the figure when the command failed; nothing when it was killed itself.
        time_lines = rss_file.read_text().split("\n") if rss_file.exists() else []
        time_lines = [line.strip() for line in time_lines if line.strip()]
    rss_mib = int(time_lines[-1]) / 1024 if time_lines and time_lines[-1].isdigit() else None
    if not timed_out and child.returncode == 0:
        try:
            tool = json.loads(stdout.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError):
            tool = None
        return {"wall_s": wall, "rss_mib": rss_mib, "tool": tool}
    last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "")[:300]
    killed_by = next((line.split()[-1] for line in time_lines if line.startswith("Command terminated by signal")), None)
    if timed_out:
        reason = f"timeout after {timeout_s:g} s"
    elif limit and any(marker in stderr for marker in MEMORY_MARKERS):
        reason = f"memory limit {mem_gib:g} GiB"
    elif killed_by:
        reason = f"killed by signal {killed_by}" + (f": {last}" if last else "")
    else:
        reason = f"exit code {child.returncode}: {last}"
    return {"failed": True, "reason": reason, "wall_s": wall, "rss_mib": rss_mib, "returncode": child.returncode,
            "stderr_tail": stderr[-4000:], "stdout_tail": stdout[-2000:]}


def repeat(n, argv, env=None):
    return [run_step(argv, env) for _ in range(n)]


def median(runs, key):
    """Median over runs of a figure: 'wall_s', 'rss_mib', or a function of the tool's JSON."""
    return statistics.median(r[key] if isinstance(key, str) else key(r["tool"]) for r in runs)


def ezkl_step(step, args, opts):
    """One EZKL step in a process of its own, under the --ezkl-* limits; raises StepFailed if it does not finish."""
    argv = [sys.executable, str(HERE / "ezkl_step.py"), step, json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in args.items()})]
    result = run_limited(argv, {"RAYON_NUM_THREADS": str(opts.threads)}, opts.ezkl_timeout, opts.ezkl_mem_gib)
    if result.get("failed"):
        print(f"  EZKL {step} did not finish: {result['reason']}", flush=True)
        raise StepFailed(step, result)
    return result


# ---------------------------------------------------------------------------------------------
# Inputs and the float reference


def flat_input(path):
    data = json.loads(Path(path).read_text())
    values = data["input_data"] if isinstance(data, dict) else data
    return np.asarray(values, dtype=np.float32).ravel()


def float_reference(onnx_path, input_path):
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    first = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in first.shape]
    out = session.run(None, {first.name: flat_input(input_path).reshape(shape)})[0]
    return np.asarray(out, dtype=np.float64).ravel()


def calibration_file(model, work):
    """The model's calibration samples in EZKL's form: one flat input_data that EZKL splits into batches."""
    samples = json.loads((FIXTURES / model.calibration).read_text())["samples"]
    path = work / "calibration_ezkl.json"
    path.write_text(json.dumps({"input_data": [[float(x) for s in samples for x in np.ravel(s)]]}))
    return path, len(samples)


def output_error(outputs, reference):
    out = np.asarray(outputs, dtype=np.float64).ravel()
    return {
        "outputs": out.tolist(),
        "max_abs_error": float(np.max(np.abs(out - reference))),
        "top1": int(np.argmax(out)),
        "top1_agrees": bool(np.argmax(out) == np.argmax(reference)),
    }


# ---------------------------------------------------------------------------------------------
# The two tools' runners: the same figures under the same names


def run_zkinfer(zk, model, work, opts):
    zkm, proof = work / "model.zkm", work / "proof.zkp"
    cache = work / "zkinfer-cache"  # empty at first: the first compile makes the dev SRS for its k
    env = {"ZKINFER_CACHE_DIR": str(cache)}
    compile_ = [zk, "compile", FIXTURES / model.onnx, "-o", zkm, "--calibration", FIXTURES / model.calibration, "--srs", "dev", "--json"]
    cold = run_step(compile_, env)  # the SRS made, then the keys
    warm = repeat(opts.runs, compile_, env)  # the SRS loaded from the cache; the keys made again
    k = cold["tool"]["plan"]["k"]
    # The SRS alone, made in a cache of its own: what the cold compile spends on it.
    srs = run_step([zk, "srs", "dev", "--k", k], {"ZKINFER_CACHE_DIR": str(work / "srs-only")})
    prove = repeat(opts.runs, [zk, "prove", "-m", zkm, "-i", FIXTURES / model.input, "-o", proof, "--threads", str(opts.threads), "--json"], env)
    verify = repeat(opts.runs, [zk, "verify", proof, "-m", zkm, "--allow-dev-srs", "--json"], env)
    assert all(v["tool"]["valid"] for v in verify), "zkinfer: proof invalid"
    figures = {
        "k": k,
        "rows": cold["tool"]["plan"]["rows"],
        "proof_bytes": prove[0]["tool"]["proof_bytes"],
        "srs_made_s": srs["wall_s"],
        "compile_keys_wall_s": median(warm, "wall_s"),
        "cold_compile_keys_wall_s": cold["wall_s"],
        "keygen_s": None,  # inside compile, not reported on its own
        "keygen_rss_mib": median(warm, "rss_mib"),
        "keys_load_s": median(prove, lambda t: t["params_s"] + t["keygen_s"]),
        "prove_s": median(prove, lambda t: t["witness_s"] + t["prove_s"]),
        "prove_wall_s": median(prove, "wall_s"),
        "prove_rss_mib": median(prove, "rss_mib"),
        "verify_s": median(verify, lambda t: t["params_s"] + t["keygen_vk_s"] + t["verify_s"]),
        "verify_wall_s": median(verify, "wall_s"),
        "verify_rss_mib": median(verify, "rss_mib"),
        **output_error(verify[0]["tool"]["outputs"], opts.reference),
        "pk_bytes": sum(f.stat().st_size for f in (cache / "keys").glob("*.pk")),
    }
    runs = {"compile_cold": cold, "compile_warm": warm, "srs": srs, "prove": prove, "verify": verify}
    return figures, runs


def ezkl_srs(k, opts):
    """A local SRS for k (gen_srs, never get_srs), kept across runs in work/srs/ with its making time."""
    srs, made = opts.work / "srs" / f"kzg{k}.srs", opts.work / "srs" / f"kzg{k}.json"
    if srs.exists() and made.exists():
        return srs, {**json.loads(made.read_text()), "this_run": False}
    srs.parent.mkdir(parents=True, exist_ok=True)
    step = ezkl_step("srs", {"srs": srs, "k": k}, opts)
    record = {"gen_srs_s": step["tool"]["gen_srs_s"], "wall_s": step["wall_s"], "rss_mib": step["rss_mib"], "date": opts.date}
    made.write_text(json.dumps(record))
    return srs, {**record, "this_run": True}


def ezkl_failure(failure, settings_path, calibrated, started):
    """EZKL's result for a model whose run stopped at a step: what is known of it, for the report."""
    settings = json.loads(settings_path.read_text()) if calibrated and settings_path.exists() else None
    record = failure.record
    return {
        "failed": True,
        "step": failure.step,
        "reason": record["reason"],
        "k": settings["run_args"]["logrows"] if settings else None,  # EZKL's calibrated logrows
        "rows": settings.get("num_rows") if settings else None,
        "wall_s": time.perf_counter() - started,  # EZKL's run on this model until it stopped
        "step_wall_s": record.get("wall_s"),  # the failed step's process alone (None: not started)
        "rss_mib": record.get("rss_mib"),  # the failed step's peak (None: unknown, or not started)
        "skipped": bool(record.get("skipped")),  # not attempted (over --ezkl-max-k)
    }


def run_ezkl(model, work, opts):
    """EZKL's figures and runs; if a step does not finish, its failure record (ezkl_failure) and the runs so far."""
    started = time.perf_counter()
    files = {name: work / name for name in ["settings.json", "network.ezkl", "vk.key", "pk.key", "witness.json", "proof.json"]}
    calibration, _ = calibration_file(model, work)
    paths = {
        "onnx": FIXTURES / model.onnx, "input": FIXTURES / model.input, "calibration": calibration,
        "settings": files["settings.json"], "circuit": files["network.ezkl"], "vk": files["vk.key"],
        "pk": files["pk.key"], "witness": files["witness.json"], "proof": files["proof.json"],
    }
    runs = {}
    try:
        runs["compile"] = compiled = ezkl_step("compile", paths, opts)
        settings = json.loads(files["settings.json"].read_text())
        k = settings["run_args"]["logrows"]
        if k > opts.ezkl_max_k:
            raise StepFailed("srs", {"reason": f"k = {k} needs a 2^{k}-row SRS and keys: over the limits",
                                     "wall_s": None, "rss_mib": None, "skipped": True})
        paths["srs"], srs_made = ezkl_srs(k, opts)
        setup = runs["setup"] = []
        for _ in range(opts.setup_runs):
            setup.append(ezkl_step("setup", paths, opts))
        pk_bytes = files["pk.key"].stat().st_size
        prove = runs["prove"] = []
        for _ in range(opts.runs):
            prove.append(ezkl_step("prove", paths, opts))
        verify = runs["verify"] = []
        for _ in range(opts.runs):
            verify.append(ezkl_step("verify", paths, opts))
    except StepFailed as failure:
        runs["failed"] = {"step": failure.step, **failure.record}
        if files["pk.key"].exists() and not opts.keep_keys:
            files["pk.key"].unlink()
        return ezkl_failure(failure, files["settings.json"], "compile" in runs, started), runs
    assert all(v["tool"]["valid"] for v in verify), "EZKL: proof invalid"
    proof = json.loads(files["proof.json"].read_text())
    compile_keys_wall = compiled["wall_s"] + median(setup, "wall_s")
    figures = {
        "k": k,
        "rows": settings["num_rows"],
        "proof_bytes": len(proof["proof"]),
        "srs_made_s": srs_made["gen_srs_s"],
        "compile_keys_wall_s": compile_keys_wall,
        "cold_compile_keys_wall_s": compile_keys_wall + srs_made["wall_s"],
        "keygen_s": median(setup, lambda t: t["setup_s"]),
        "keygen_rss_mib": median(setup, "rss_mib"),
        "keys_load_s": None,  # inside gen_witness and prove
        "prove_s": median(prove, lambda t: t["witness_s"] + t["prove_s"]),
        "prove_wall_s": median(prove, "wall_s"),
        "prove_rss_mib": median(prove, "rss_mib"),
        "verify_s": median(verify, lambda t: t["verify_s"]),
        "verify_wall_s": median(verify, "wall_s"),
        "verify_rss_mib": median(verify, "rss_mib"),
        **output_error([float(x) for x in proof["pretty_public_inputs"]["rescaled_outputs"][0]], opts.reference),
        "pk_bytes": pk_bytes,
        "compile_wall_s": compiled["wall_s"],
        "srs": srs_made,
        "scales": {"input": settings["run_args"]["input_scale"], "param": settings["run_args"]["param_scale"]},
    }
    if not opts.keep_keys:
        files["pk.key"].unlink()
    return figures, runs


def thread_sweep(zk, work, opts):
    """zkinfer's prove at each thread count (the model and its cached SRS and keys from run_zkinfer)."""
    env = {"ZKINFER_CACHE_DIR": str(work / "zkinfer-cache")}
    sweep = {}
    for n in opts.sweep_threads:
        runs = repeat(opts.runs, [zk, "prove", "-m", work / "model.zkm", "-i", FIXTURES / opts.model.input, "-o", work / f"proof-t{n}.zkp", "--threads", str(n), "--json"], env)
        sweep[n] = {
            "keys_load_s": median(runs, lambda t: t["params_s"] + t["keygen_s"]),
            "prove_s": median(runs, lambda t: t["witness_s"] + t["prove_s"]),
            "wall_s": median(runs, "wall_s"),
            "rss_mib": median(runs, "rss_mib"),
        }
    return sweep


# ---------------------------------------------------------------------------------------------
# The report


def machine(opts, zk):
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), platform.processor())
    mem = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    import ezkl

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem) / 2**20, 1),
        "threads": opts.threads,
        "date": opts.date,
        "load_average_at_start": os.getloadavg(),
        "versions": {
            "zkinfer": subprocess.run([zk, "--version"], capture_output=True, text=True).stdout.split()[-1],
            "ezkl": ezkl.__version__,
            "onnxruntime": onnxruntime.__version__,
            "python": platform.python_version(),
        },
    }


# (label, figure key, format); a figure a tool does not have (None) shows as —
ROWS = [
    ("k", "k", "{:d}"),
    ("rows", "rows", "{:,}"),
    ("SRS made (once per k; EZKL `gen_srs` in the tool, zkinfer `srs dev` process wall)", "srs_made_s", "{:.2f} s"),
    ("compile + calibrate + keys, wall, SRS cached", "compile_keys_wall_s", "{:.2f} s"),
    ("compile + calibrate + keys, wall, SRS made first (cold)", "cold_compile_keys_wall_s", "{:.2f} s"),
    ("key generation, in the tool", "keygen_s", "{:.3f} s"),
    ("peak RSS, key generation (EZKL setup, zkinfer compile)", "keygen_rss_mib", "{:.0f} MiB"),
    ("SRS + proving key loaded, in the tool", "keys_load_s", "{:.3f} s"),
    ("prove (witness + proof), in the tool", "prove_s", "{:.3f} s"),
    ("prove, process wall (keys read from disk)", "prove_wall_s", "{:.3f} s"),
    ("peak RSS, prove", "prove_rss_mib", "{:.0f} MiB"),
    ("verify (in the tool)", "verify_s", "{:.3f} s"),
    ("verify, process wall", "verify_wall_s", "{:.3f} s"),
    ("peak RSS, verify", "verify_rss_mib", "{:.0f} MiB"),
    ("proof size", "proof_bytes", "{:,} B"),
    ("max abs output error vs onnxruntime", "max_abs_error", "{:.2g}"),
    ("top-1 agrees with onnxruntime", "top1_agrees", "{}"),
]


def cell(fmt, value):
    return "—" if value is None else fmt.format(value)


def ratio(e, z, key=None):
    if key == "k":  # what k costs is the domain, 2^k rows
        return f"{2.0 ** (e - z):,.3g}× (2^k)"
    if isinstance(e, bool) or not isinstance(e, (int, float)) or not isinstance(z, (int, float)) or not z:
        return ""
    return f"{e / z:.3g}×"


def limits_paragraph(report):
    """The EZKL limits, said only when some model's EZKL run did not fit in them (so a report without
    failures reads as before)."""
    failed = [r["title"] for r in report["models"].values() if r["ezkl"].get("failed")]
    if not failed:
        return []
    lim = report["ezkl_limits"]
    timeout = f"{lim['timeout_s']:g} s" if lim["timeout_s"] else "no time limit"
    memory = f"{lim['mem_gib']:g} GiB of address space (`RLIMIT_AS`)" if lim["mem_gib"] else "no memory limit"
    return ["", f"EZKL ran under limits: {timeout} and {memory} per step process, and no SRS or keys above "
            f"k = {lim['max_k']}. It did not fit them on {', '.join(failed)}: those rows show zkinfer's figures, "
            "EZKL's failure (the step, the reason, EZKL's calibrated k if it got that far) and no ratios."]


def did_not_fit(e):
    """The EZKL cell of a model whose EZKL run stopped (a failure record from ezkl_failure)."""
    where = f"step {e['step']}" + ("" if e["k"] is None or e.get("skipped") else f", k = {e['k']}")
    return f"did not fit: {e['reason']} ({where})".replace("|", "\\|").replace("\n", " ")


def markdown(report):
    m = report["machine"]
    lines = [
        f"# zkinfer and EZKL side by side ({m['date']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['threads']} threads for both tools "
        f"(zkinfer `--threads`, EZKL `RAYON_NUM_THREADS`); load average at start {', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}. "
        f"Versions: {', '.join(f'{k} {v}' for k, v in m['versions'].items())}. "
        f"Medians of {report['runs']} runs for prove, verify and zkinfer's compile with its SRS cached, "
        f"{report['setup_runs']} for EZKL's setup.",
        *limits_paragraph(report),
        "",
        "| model | EZKL k / rows | zkinfer k / rows | prove wall: EZKL | zkinfer | ÷ | compile + keys wall: EZKL | zkinfer | ÷ "
        "| verify: EZKL | zkinfer | ÷ | peak RSS prove: EZKL | zkinfer | proof B: EZKL | zkinfer | max abs err: EZKL | zkinfer |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    summary, acceptance = [], []
    for r in report["models"].values():
        e, z = r["ezkl"], r["zkinfer"]
        if e.get("failed"):  # zkinfer's figures, EZKL's failure, no ratios
            summary.append(
                f"| {r['title']} | {did_not_fit(e)} | {z['k']} / {z['rows']:,} "
                f"| — | {z['prove_wall_s']:.3f} s | | — | {z['compile_keys_wall_s']:.2f} s | "
                f"| — | {z['verify_s'] * 1000:.0f} ms | | — | {z['prove_rss_mib']:.0f} MiB | — | {z['proof_bytes']:,} "
                f"| — | {z['max_abs_error']:.2g} |"
            )
            acceptance.append(f"| {r['title']} | — | — | — | — / {z['max_abs_error']:.2g} | — / {z['top1_agrees']} |")
            continue
        summary.append(
            f"| {r['title']} | {e['k']} / {e['rows']:,} | {z['k']} / {z['rows']:,} "
            f"| {e['prove_wall_s']:.2f} s | {z['prove_wall_s']:.3f} s | {ratio(e['prove_wall_s'], z['prove_wall_s'])} "
            f"| {e['compile_keys_wall_s']:.2f} s | {z['compile_keys_wall_s']:.2f} s | {ratio(e['compile_keys_wall_s'], z['compile_keys_wall_s'])} "
            f"| {e['verify_s'] * 1000:.0f} ms | {z['verify_s'] * 1000:.0f} ms | {ratio(e['verify_s'], z['verify_s'])} "
            f"| {e['prove_rss_mib']:.0f} MiB | {z['prove_rss_mib']:.0f} MiB | {e['proof_bytes']:,} | {z['proof_bytes']:,} "
            f"| {e['max_abs_error']:.2g} | {z['max_abs_error']:.2g} |"
        )
        acceptance.append(
            f"| {r['title']} | {ratio(e['prove_s'], z['keys_load_s'] + z['prove_s'])} "
            f"| {ratio(e['prove_rss_mib'], z['prove_rss_mib'])} | {ratio(e['verify_s'], z['verify_s'])} "
            f"| {e['max_abs_error']:.2g} / {z['max_abs_error']:.2g} | {e['top1_agrees']} / {z['top1_agrees']} |"
        )
    lines += summary
    lines += ["", "Prove wall: the prove process, keys made beforehand and read from disk (EZKL's `gen_witness` + "
              "`prove` after its `setup`; zkinfer's `prove` after its `compile`). Compile + keys wall: what comes "
              "before the first proof with the SRS on disk (EZKL's compile + calibrate, then `setup`; zkinfer's "
              "`compile`, which calibrates and makes the keys).", "",
              "EZKL ÷ zkinfer, in-tool times: EZKL's prove (witness + proof, reading its proving key and SRS "
              "included, its setup excluded) against zkinfer's SRS and proving key loaded + witness + proof; "
              "peak RSS of the prove steps; verify (both verifying keys read from disk: zkinfer's from the model "
              "file). Above 1, zkinfer is faster or leaner.", "",
              "| model | prove | peak RSS prove | verify | max abs error EZKL / zkinfer | top-1 agrees EZKL / zkinfer |",
              "|---|---|---|---|---|---|", *acceptance]
    for name, r in report["models"].items():
        e, z = r["ezkl"], r["zkinfer"]
        lines += ["", f"## {r['title']} (`fixtures/{r['onnx']}`, input `fixtures/{r['input']}`)", "",
                  "| figure | EZKL | zkinfer | EZKL ÷ zkinfer |", "|---|---|---|---|"]
        if e.get("failed"):
            for label, key, fmt in ROWS:  # EZKL: only k and rows, if its calibration got that far
                value = e[key] if key in ("k", "rows") else None
                lines.append(f"| {label} | {cell(fmt, value)} | {cell(fmt, z[key])} | |")
            ran = (f"Its `{e['step']}` step was not started" if e.get("skipped") else
                   f"Its `{e['step']}` process ran {e['step_wall_s']:.1f} s"
                   + ("" if e["rss_mib"] is None else f" (peak RSS {e['rss_mib']:.0f} MiB)"))
            lines += ["", f"EZKL {did_not_fit(e)}. {ran}; {e['wall_s']:.1f} s of EZKL on this model in all. "
                      f"zkinfer: proving key {z['pk_bytes'] / 2**20:,.1f} MiB (cached by `compile`), development SRS."]
        else:
            for label, key, fmt in ROWS:
                lines.append(f"| {label} | {cell(fmt, e[key])} | {cell(fmt, z[key])} | {ratio(e[key], z[key], key)} |")
        srs = e.get("srs")
        if srs:
            lines += ["", f"EZKL: proving key {e['pk_bytes'] / 2**20:,.0f} MiB; scales 2^{e['scales']['input']} (input), "
                      f"2^{e['scales']['param']} (weights); SRS for k = {e['k']} "
                      + ("made this run" if srs["this_run"] else f"from an earlier run ({srs['date']})")
                      + f" by `gen_srs` in {srs['gen_srs_s']:.1f} s ({srs['rss_mib']:.0f} MiB). "
                      f"zkinfer: proving key {z['pk_bytes'] / 2**20:,.1f} MiB (cached by `compile`), development SRS."]
        if r.get("thread_sweep"):
            lines += ["", "zkinfer prove by thread count (SRS and keys cached, medians): " + "; ".join(
                f"{n} thread{'s' if int(n) > 1 else ''}: SRS + proving key loaded {s['keys_load_s']:.2f} s + prove {s['prove_s']:.2f} s, "
                f"{s['wall_s']:.2f} s wall, {s['rss_mib']:.0f} MiB" for n, s in r["thread_sweep"].items()) + "."]
    lines += ["", "## Notes", "", *NOTES]
    return "\n".join(lines) + "\n"


NOTES = [
    "- Each step is a process of its own; wall time and peak RSS are the process's (`/usr/bin/time -f %M`). "
    "'In the tool' figures are what each tool reports for its own work: zkinfer's `--json` timings, "
    "EZKL's Python calls timed around them (`ezkl_step.py`, Python start-up and `import ezkl` excluded).",
    "- Both tools are KZG over BN254 with a local, insecure SRS: EZKL's from `gen_srs` (offline, never "
    "`get_srs`), zkinfer's development SRS (`compile --srs dev`, deterministic, made on first use; its proofs "
    "are verified with `--allow-dev-srs`).",
    "- Keys are made before proving by both: zkinfer's `compile` makes them (the verifying key stored in "
    "the model file, the proving key cached under `ZKINFER_CACHE_DIR/keys/`), EZKL's `setup` writes them to "
    "disk. zkinfer reports no key-generation time of its own (it is part of the compile): that row is empty. Both tools' "
    "`prove` processes read the proving key and SRS back from disk; zkinfer's reports that loading apart.",
    "- Cache state: zkinfer's cache (`ZKINFER_CACHE_DIR`, the same for every step of a model) is empty for "
    "the first compile of each model (`cold`: the development SRS for its k is made, then the keys), then "
    "holds the SRS for the timed compiles (`SRS cached`: the keys are made again) and the SRS and proving key "
    "for prove and verify. Its `SRS made` figure is `zkinfer srs dev --k K` run in a cache of its own. EZKL's "
    "SRS is made once per k and kept in `benches/compare/work/srs/` across runs; its cold row adds the "
    "`gen_srs` process's wall.",
    "- zkinfer's verify (in the tool) is as a user runs it: SRS points loaded, verifying key read from the "
    "model file, proof checked.",
    "- Both tools are calibrated on the same samples (the fixture's calibration set; EZKL takes them as "
    "one flat `input_data` that it splits into batches), EZKL with its default settings and target `resources`.",
    "- Proof size: the raw proof bytes (zkinfer's `.zkp` bundle and EZKL's proof JSON carry more).",
    "- Output error: the proven outputs (zkinfer: `verify --json` outputs; EZKL: the proof's "
    "`rescaled_outputs`) against onnxruntime's float32 outputs on the same input.",
]


# ---------------------------------------------------------------------------------------------


def parse_args():
    class Help(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
        pass

    p = argparse.ArgumentParser(description=__doc__, formatter_class=Help)
    p.add_argument("--zkinfer", required=True, help="the zkinfer binary (run.sh builds it and passes it)")
    p.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated, from {', '.join(MODELS)}")
    p.add_argument("--runs", type=int, default=3, help="repetitions of prove and verify (medians)")
    p.add_argument("--setup-runs", type=int, default=1, help="repetitions of EZKL's setup")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both tools")
    p.add_argument("--sweep-threads", default="1,2", help="zkinfer prove thread counts for --sweep-models")
    p.add_argument("--sweep-models", default="lenet", help="models whose zkinfer prove is timed per thread count")
    p.add_argument("--name", help="results/NAME.md and .json; unset: compare for the default models, else compare-MODELS")
    p.add_argument("--work", type=Path, default=HERE / "work", help="keys, proofs, SRS (git-ignored; the SRS is kept across runs)")
    p.add_argument("--keep-keys", action="store_true", help="keep EZKL's proving keys (LeNet-5's is 4 GiB)")
    p.add_argument("--ezkl-timeout", type=float, default=1800, metavar="S",
                   help="wall-time limit in seconds of each EZKL step process (0: none); past it the step is killed "
                        "and EZKL's result for that model is a failure")
    p.add_argument("--ezkl-mem-gib", type=float, default=20, metavar="G",
                   help="address-space limit (RLIMIT_AS, not resident memory) in GiB of each EZKL step process (0: none)")
    p.add_argument("--ezkl-max-k", type=int, default=23, metavar="K",
                   help="skip EZKL's SRS, setup, prove and verify when its calibrated k is above this")
    opts = p.parse_args()
    opts.models = opts.models.split(",")
    unknown = [m for m in opts.models if m not in MODELS]
    if unknown:
        p.error(f"unknown model(s) {unknown}; known: {', '.join(MODELS)}")
    opts.sweep_threads = [int(n) for n in opts.sweep_threads.split(",") if n]
    opts.sweep_models = opts.sweep_models.split(",")
    opts.name = opts.name or ("compare" if set(opts.models) == set(DEFAULT_MODELS.split(",")) else "compare-" + "-".join(opts.models))
    opts.date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    return opts


def main():
    opts = parse_args()
    zk = str(Path(opts.zkinfer).resolve())
    report = {"machine": machine(opts, zk), "runs": opts.runs, "setup_runs": opts.setup_runs,
              "ezkl_limits": {"timeout_s": opts.ezkl_timeout, "mem_gib": opts.ezkl_mem_gib, "max_k": opts.ezkl_max_k},
              "models": {}}
    for name in opts.models:
        model = MODELS[name]
        opts.model, opts.reference = model, float_reference(FIXTURES / model.onnx, FIXTURES / model.input)
        entry = {"title": model.title, "onnx": model.onnx, "input": model.input, "calibration": model.calibration,
                 "onnxruntime_outputs": opts.reference.tolist(), "runs": {}}
        for tool, runner in [("ezkl", lambda w: run_ezkl(model, w, opts)), ("zkinfer", lambda w: run_zkinfer(zk, model, w, opts))]:
            work = opts.work / name / tool
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            print(f"{model.title}: {tool} ...", flush=True)
            entry[tool], entry["runs"][tool] = runner(work)
        if name in opts.sweep_models and opts.sweep_threads:
            print(f"{model.title}: zkinfer at {opts.sweep_threads} threads ...", flush=True)
            entry["thread_sweep"] = thread_sweep(zk, opts.work / name / "zkinfer", opts)
        report["models"][name] = entry
    report["machine"]["load_average_at_end"] = os.getloadavg()
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"{opts.name}.json").write_text(json.dumps(report, indent=1) + "\n")
    (out / f"{opts.name}.md").write_text(markdown(report))
    print(markdown(report))
    print(f"wrote {out / opts.name}.md and .json")


if __name__ == "__main__":
    main()
