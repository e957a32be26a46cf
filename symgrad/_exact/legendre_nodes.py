"""Gauss–Legendre nodes and weights on [−1, 1] for the panel sizes the network tables use
(n = 12 and its doubling 24), as exact float64 bit patterns of
``numpy.polynomial.legendre.leggauss(n)``: its first call imports all of
``numpy.polynomial`` (tens of milliseconds).  ``tests/networks/test_gaussian_maps.py``
checks them against leggauss; other n are computed by leggauss."""

from __future__ import annotations

__all__ = ["NODES"]

#: n → (nodes, weights), each a tuple of float.hex strings in leggauss's order.
NODES: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    12: (
        (
            "-0x1.f68f1d8e42e81p-1", "-0x1.cee874ffb88b3p-1", "-0x1.8a30aeed88f36p-1",
            "-0x1.2cb4f05c077f9p-1", "-0x1.78a8d20a8b19dp-2", "-0x1.007a5f8f630e4p-3",
            "0x1.007a5f8f630e4p-3", "0x1.78a8d20a8b19dp-2", "0x1.2cb4f05c077f9p-1",
            "0x1.8a30aeed88f36p-1", "0x1.cee874ffb88b3p-1", "0x1.f68f1d8e42e81p-1",
        ),
        (
            "0x1.8275d9dea6d53p-5", "0x1.b60602bce61afp-4", "0x1.47d7258f22d96p-3",
            "0x1.a0163e6b1ab6bp-3", "0x1.de3155c256aaep-3", "0x1.fe40ce6d4f022p-3",
            "0x1.fe40ce6d4f022p-3", "0x1.de3155c256aaep-3", "0x1.a0163e6b1ab6bp-3",
            "0x1.47d7258f22d96p-3", "0x1.b60602bce61afp-4", "0x1.8275d9dea6d53p-5",
        ),
    ),
    24: (
        (
            "-0x1.fd892de691982p-1", "-0x1.f30f9f0cbf876p-1", "-0x1.e06585a70aa4dp-1",
            "-0x1.c5d841864d0f5p-1", "-0x1.a3d74ce0d3700p-1", "-0x1.7af18edb9ddd6p-1",
            "-0x1.4bd2ee5fa1086p-1", "-0x1.17417bac4d72bp-1", "-0x1.bc345d81e24b5p-2",
            "-0x1.429a8c588e910p-2", "-0x1.8769542b94f8dp-3", "-0x1.0660853eda2e8p-4",
            "0x1.0660853eda2e8p-4", "0x1.8769542b94f8dp-3", "0x1.429a8c588e910p-2",
            "0x1.bc345d81e24b5p-2", "0x1.17417bac4d72bp-1", "0x1.4bd2ee5fa1086p-1",
            "0x1.7af18edb9ddd6p-1", "0x1.a3d74ce0d3700p-1", "0x1.c5d841864d0f5p-1",
            "0x1.e06585a70aa4dp-1", "0x1.f30f9f0cbf876p-1", "0x1.fd892de691982p-1",
        ),
        (
            "0x1.9465bd311255dp-7", "0x1.d375514486effp-6", "0x1.6ab884f57c940p-5",
            "0x1.e5c6255d25e9dp-5", "0x1.2c6d5c2eff05ap-4", "0x1.6108ef5044635p-4",
            "0x1.8fd8936444b19p-4", "0x1.b8177ba4a68d7p-4", "0x1.d91c78acb1b27p-4",
            "0x1.f25cbce1d1fefp-4", "0x1.01b7117cf8bd6p-3", "0x1.060475e763731p-3",
            "0x1.060475e763731p-3", "0x1.01b7117cf8bd6p-3", "0x1.f25cbce1d1fefp-4",
            "0x1.d91c78acb1b27p-4", "0x1.b8177ba4a68d7p-4", "0x1.8fd8936444b19p-4",
            "0x1.6108ef5044635p-4", "0x1.2c6d5c2eff05ap-4", "0x1.e5c6255d25e9dp-5",
            "0x1.6ab884f57c940p-5", "0x1.d375514486effp-6", "0x1.9465bd311255dp-7",
        ),
    ),
}
