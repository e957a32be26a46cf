"""predict for a 1000-block stack: time per call (target ≤ 50 ms), cold and warm.

Run: python benchmarks/predict_speed.py [--quick]
"""

import sys
import time

from symgrad import networks as nw


def main() -> None:
    depth = 100 if "--quick" in sys.argv else 1000
    relu = nw.activation("relu")
    nets = {
        "pre-LN relu": nw.repeat(nw.residual(nw.serial(nw.layernorm(), relu, nw.dense(1))),
                                 depth),
        "pre-LN gelu": nw.repeat(nw.residual(nw.serial(nw.layernorm(), nw.activation("gelu"),
                                                       nw.dense(1))), depth),
        "plain tanh": nw.repeat(nw.serial(nw.dense(1.2), nw.activation("tanh")), depth),
        "BatchNorm relu": nw.repeat(nw.serial(nw.dense(1), nw.batchnorm(), relu), depth),
    }
    print(f"| network ({depth} blocks) | first call | median of 5 |")
    print("| --- | ---: | ---: |")
    for name, net in nets.items():
        t = time.perf_counter()
        nw.predict(net)
        first = time.perf_counter() - t
        times = []
        for _ in range(5):
            t = time.perf_counter()
            nw.predict(net)
            times.append(time.perf_counter() - t)
        times.sort()
        print(f"| {name} | {first * 1e3:.1f} ms | {times[2] * 1e3:.1f} ms |")


if __name__ == "__main__":
    main()
