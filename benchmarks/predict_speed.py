"""predict for a 1000-block stack: time per call (target ≤ 50 ms), first call and warm.

Run: python benchmarks/predict_speed.py [--quick]

Each network is timed in a fresh interpreter (``import symgrad.networks`` and building the
network are not timed): the *first call* fills the Gaussian tables of a numeric activation
and derives the depth law in SymPy; *warm* calls (median of 5) reuse both (the tables are
kept per process, laws are cached per repeated block and entering state).  ``--quick``
runs 100 blocks.
"""

import json
import subprocess
import sys

_CHILD = """
import json, sys, time
from symgrad import networks as nw
depth = int(sys.argv[1])
net = nw.parse_network(sys.argv[2].replace("DEPTH", str(depth)))
t = time.perf_counter(); p = nw.predict(net); first = time.perf_counter() - t
warm = []
for _ in range(5):
    t = time.perf_counter(); nw.predict(net); warm.append(time.perf_counter() - t)
warm.sort()
print(json.dumps({"first": first, "warm": warm[2], "law": p.law.kind.value,
                  "how": p.law.how("constant").kind.value}))
"""

NETS = {
    "pre-LN relu": "pre_ln(relu, DEPTH)",
    "pre-LN gelu": "pre_ln(gelu, DEPTH)",
    "plain tanh, σ_w = 1.2": "mlp(tanh, DEPTH, sigma_w=1.2)",
    "plain gelu, advised (1.398, 0.7)": "mlp(gelu, DEPTH, sigma_w=1.398, sigma_b=0.7)",
    "BatchNorm relu": "bn_mlp(relu, DEPTH)",
    "residual tanh": "resnet(tanh, DEPTH)",
    "post-LN tanh": "post_ln(tanh, DEPTH)",
    "Fixup relu, m = 3": "fixup(relu, DEPTH, m=3, last=0.5)",
}


def main() -> None:
    depth = 100 if "--quick" in sys.argv else 1000
    print(f"| network ({depth} blocks) | first call | warm (median of 5) | law |")
    print("| --- | ---: | ---: | --- |")
    for name, spec in NETS.items():
        out = subprocess.run([sys.executable, "-c", _CHILD, str(depth), spec],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        print(f"| {name} | {r['first'] * 1e3:.1f} ms | {r['warm'] * 1e3:.1f} ms |"
              f" {r['law']} ({r['how']}) |")


if __name__ == "__main__":
    main()
