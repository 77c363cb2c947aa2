"""One EZKL step, run by compare.py in a process of its own so that its peak RSS is the step's own.

    python ezkl_step.py STEP '{"arg": "value", ...}'

Prints one JSON object: the seconds spent inside each EZKL call (Python start-up and `import ezkl`
excluded; compare.py also measures the whole process). Offline: the SRS comes from `gen_srs`, never
from `get_srs`.
"""

import json
import sys
import time

import ezkl


def timed(call, *args, **kwargs):
    start = time.perf_counter()
    result = call(*args, **kwargs)
    return time.perf_counter() - start, result


def compile_circuit(a):
    """Default settings (input and output public, weights fixed), calibrated for `resources`."""
    gen_s, _ = timed(ezkl.gen_settings, a["onnx"], a["settings"], py_run_args=ezkl.PyRunArgs())
    cal_s, _ = timed(ezkl.calibrate_settings, a["calibration"], a["onnx"], a["settings"], "resources")
    comp_s, _ = timed(ezkl.compile_circuit, a["onnx"], a["circuit"], a["settings"])
    return {"gen_settings_s": gen_s, "calibrate_s": cal_s, "compile_s": comp_s}


def srs(a):
    s, _ = timed(ezkl.gen_srs, a["srs"], a["k"])
    return {"gen_srs_s": s}


def setup(a):
    s, _ = timed(ezkl.setup, a["circuit"], a["vk"], a["pk"], srs_path=a["srs"])
    return {"setup_s": s}


def prove(a):
    """Witness (the quantized forward pass) and proof: zkinfer's `prove` does both too."""
    wit_s, _ = timed(ezkl.gen_witness, a["input"], a["circuit"], a["witness"], vk_path=a["vk"], srs_path=a["srs"])
    prove_s, _ = timed(ezkl.prove, a["witness"], a["circuit"], a["pk"], a["proof"], srs_path=a["srs"])
    return {"witness_s": wit_s, "prove_s": prove_s}


def verify(a):
    s, valid = timed(ezkl.verify, a["proof"], a["settings"], a["vk"], srs_path=a["srs"])
    return {"verify_s": s, "valid": bool(valid)}


STEPS = {"compile": compile_circuit, "srs": srs, "setup": setup, "prove": prove, "verify": verify}

if __name__ == "__main__":
    print(json.dumps(STEPS[sys.argv[1]](json.loads(sys.argv[2]))))
