"""The Huffman kernels alone, against an earlier revision in the same process (issue 16): the encoder's
``_encode_range`` on one scan's blocks (standard tables, no restarts) and the decoder's
``_decode_sequential`` on the same file, interleaved rounds, medians of thread CPU time.

    NUMBA_NUM_THREADS=1 python -m bench.entropy_kernels --before main [--rounds 11] [--flat]

``--flat`` codes a constant image (a DC and an EOB per block: the per-block cost of each kernel).
bench.stages times whole stages (front end, file parsing, allocation); this isolates the inner loops.
Both revisions must give the same bytes and coefficients, or the run stops.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

import numpy as np

from bench.stages import _extract


def _blocks(pkg, data):
    """The scan's blocks in transmission order (4:2:0: four Y, Cb, Cr per MCU), from pkg's decoder."""
    reader = importlib.import_module(pkg + ".decoder.reader")
    y, cb, cr = (np.asarray(c) for c in reader.read_coefficients(data).components)
    by, bx = cb.shape[:2]
    out = np.empty((by, bx, 6, 64), np.int16)
    for i, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        out[:, :, i] = y[dy : 2 * by : 2, dx : 2 * bx : 2].reshape(by, bx, 64)
    out[:, :, 4] = cb.reshape(by, bx, 64)
    out[:, :, 5] = cr.reshape(by, bx, 64)
    return out.reshape(-1, 64)


def _encoder(pkg, blocks):
    entropy = importlib.import_module(pkg + ".encoder.entropy")
    huffman = importlib.import_module(pkg + ".base.huffman")
    ehufco, ehufsi = entropy._lookup_tables(huffman.STANDARD_DC, huffman.STANDARD_AC)
    cim, tbl = np.array([0, 0, 0, 0, 1, 2], np.int64), np.array([0, 1, 1], np.int64)
    out = np.empty(blocks.shape[0] * 64, np.uint8)

    def run():
        state = np.zeros(entropy.STATE_SIZE, np.int64)
        nmcu = blocks.shape[0] // 6
        _, pos = entropy._encode_range(blocks, cim, tbl, tbl, ehufco, ehufsi, 0, nmcu, True, True, out, 0, state)
        return out[:pos].tobytes()

    return run


def _decoder(pkg, data):
    """A replay of the read_coefficients call of ``_decode_sequential`` (arguments captured once)."""
    entropy = importlib.import_module(pkg + ".decoder.entropy")
    reader = importlib.import_module(pkg + ".decoder.reader")
    kernel, captured = entropy._decode_sequential, {}

    def capture(*args):
        captured["args"], captured["state"] = list(args), args[13].copy()
        return kernel(*args)

    entropy._decode_sequential = capture
    try:
        reader.read_coefficients(data)
    finally:
        entropy._decode_sequential = kernel
    args = captured["args"]

    def run():
        args[1] = np.zeros_like(args[1])
        args[13][:] = captured["state"]
        kernel(*args)
        return args[1]

    return run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True, help="git revision to compare with, same process")
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--flat", action="store_true", help="a constant image instead of the 6.3 MP photo")
    args = ap.parse_args(argv)
    from bench.images import build

    sys.path.insert(0, _extract(args.before))
    img = np.full((2048, 3072, 3), 100, np.uint8) if args.flat else build("rgb:6.3MP")
    data = importlib.import_module("fdjpeg_before").encode(img, quality=75, subsampling="4:2:0")
    blocks = _blocks("fdjpeg_before", data)
    fns = {("encode", k): _encoder(p, blocks) for k, p in (("before", "fdjpeg_before"), ("after", "fdjpeg"))} | {
        ("decode", k): _decoder(p, data) for k, p in (("before", "fdjpeg_before"), ("after", "fdjpeg"))
    }
    if fns[("encode", "before")]() != fns[("encode", "after")]():
        raise SystemExit("encode: the two revisions give different bytes")
    if not np.array_equal(fns[("decode", "before")](), fns[("decode", "after")]()):
        raise SystemExit("decode: the two revisions give different coefficients")
    times = {key: [] for key in fns}
    for _ in range(args.rounds):
        for key, fn in fns.items():
            t = time.thread_time()
            fn()
            times[key].append(time.thread_time() - t)
    print(
        f"{'flat' if args.flat else '6.3MP photo'} 4:2:0 q75, {blocks.size} coefficients, "
        f"medians of {args.rounds} interleaved rounds (thread CPU ms)"
    )
    print("| kernel | before | after | new/old | ns/coefficient (after) |\n|---|---|---|---|---|")
    for stage in ("encode", "decode"):
        old, new = (float(np.median(times[(stage, k)])) * 1e3 for k in ("before", "after"))
        print(f"| {stage} | {old:.2f} | {new:.2f} | {new / old:.3f} | {new * 1e6 / blocks.size:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
