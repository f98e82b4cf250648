"""Which SIMD lane widths LLVM gives the pixel kernels on this CPU (issue 16, part 1): a table of vector
instructions per kernel, by register width and by element width of the arithmetic.

    python -m bench.asm_lanes [--only NAME,...]

Compiles in a fresh cache directory (a kernel loaded from Numba's cache has no assembly to show), runs a
small encode and decode so that every kernel has its real signature, and counts in each kernel's
assembly (its inlined callees included):
  xmm / ymm / zmm   instructions naming a 128-, 256-, 512-bit register;
  16-bit            vpaddw vpsubw vpmullw vpmulhw vpmulhuw vpmaddwd vpsraw vpsrlw vpsllw vpacksswb vpackuswb
                    vpmaxsw vpminsw vpabsw vpcmpgtw ... (word ops);
  32-bit            vpaddd vpsubd vpmulld vpsrad vpsrld vpslld vpmaxsd vpminsd vpabsd vpackssdw ...;
  64-bit            vpaddq vpsubq vpmuludq vpmuldq vpsraq vpsrlq vpsllq vpmullq ...;
  pmaddwd           vpmaddwd alone (libjpeg-turbo's pair-product instruction).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile

_W16 = re.compile(
    r"^v?p(add|sub|mull|mulh|mulhu|madd|sra|srl|sll|maxs|mins|maxu|minu|abs|cmpgt|cmpeq|adds|subs|addus|subus|avg)w\b|^v?packsswb|^v?packuswb|^v?pmaddwd|^v?pmovzxbw|^v?pmovsxbw"
)
_W32 = re.compile(
    r"^v?p(add|sub|mull|sra|srl|sll|maxs|mins|maxu|minu|abs|cmpgt|cmpeq)d\b|^v?packssdw|^v?packusdw|^v?pmovzxbd|^v?pmovsxwd|^v?pmovzxwd|^v?pmovdw|^v?pmovdb|^v?psravd|^v?psrlvd|^v?psllvd"
)
_W64 = re.compile(
    r"^v?p(add|sub|sra|srl|sll|maxs|mins|abs|cmpgt|cmpeq)q\b|^v?pmul(u)?dq\b|^v?pmullq|^v?pmovzx.q|^v?pmovsx.q|^v?pmovq|^v?psravq|^v?psrlvq|^v?psllvq"
)


def count(asm: str) -> dict:
    c = dict(xmm=0, ymm=0, zmm=0, w16=0, w32=0, w64=0, pmaddwd=0)
    for line in asm.splitlines():
        s = line.strip()
        if not s or s[0] in ".#;" or s.endswith(":"):
            continue
        op = s.split(None, 1)[0]
        for reg in ("zmm", "ymm", "xmm"):
            if "%" + reg in s:
                c[reg] += 1
                break
        else:
            continue
        if _W16.match(op):
            c["w16"] += 1
        elif _W32.match(op):
            c["w32"] += 1
        elif _W64.match(op):
            c["w64"] += 1
        if "pmaddwd" in op:
            c["pmaddwd"] += 1
    return c


def kernels():
    """(label, dispatcher) of the pixel kernels of issue 16, part 1."""
    from fdjpeg.decoder import color as dcolor
    from fdjpeg.decoder import compose, idct, idct_lanes, upsample
    from fdjpeg.encoder import color, downsample, fdct, prepare

    return [
        ("enc colour  _rgb_ycc_row", color._rgb_ycc_row),
        ("enc down    _downsample_row", downsample._downsample_row),
        ("enc fdct    _fdct_quantize_batched", fdct._fdct_quantize_batched),
        ("enc fdct    _fdct_quantize_groups", fdct._fdct_quantize_groups),
        (
            "enc fused   _prepare_strips (serial)",
            prepare._prepare_strips.serial if hasattr(prepare._prepare_strips, "serial") else prepare._prepare_strips,
        ),
        ("dec idct    _idct_rows_lanes", idct_lanes._idct_rows_lanes),
        ("dec idct    _idct_rows_groups", idct_lanes._idct_rows_groups),
        ("dec idct    _idct_group", idct_lanes._idct_group),
        ("dec upsamp  _upsample_row", upsample._upsample_row),
        ("dec upsamp  _fancy_row", upsample._fancy_row),
        ("dec colour  _ycc_rgb_row", dcolor._ycc_rgb_row),
        ("dec colour  _ycc_h2v2_row (vector IR)", compose._ycc_h2v2_row),
        ("dec colour  _ycc_full_row (vector IR)", compose._ycc_full_row),
        ("dec compose _compose_range", compose._compose_range),
        ("(idct plane _idct_planes)", idct._idct_planes),
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="")
    args = ap.parse_args(argv)
    os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="asm_lanes_"))
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    import numpy as np

    import fdjpeg

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (64, 96, 3), np.uint8)
    for sub in ("4:2:0", "4:2:2"):
        fdjpeg.decode(fdjpeg.encode(img, quality=75, subsampling=sub))
    import numba

    print(f"CPU {numba.config.CPU_NAME or __import__('llvmlite.binding', fromlist=['x']).get_host_cpu_name()}")
    print("| kernel | xmm | ymm | zmm | 16-bit ops | 32-bit ops | 64-bit ops | vpmaddwd |")
    print("|---|---|---|---|---|---|---|---|")
    for label, disp in kernels():
        if args.only and not any(s in label for s in args.only.split(",")):
            continue
        for sig in disp.signatures:
            c = count(disp.inspect_asm(sig))
            print(
                f"| {label} | {c['xmm']} | {c['ymm']} | {c['zmm']} | {c['w16']} | {c['w32']} | {c['w64']} | {c['pmaddwd']} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
