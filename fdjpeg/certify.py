"""Certified two-pass feature distillation (issue 18): the L-inf radius a table provably removes.

Two-pass: the source sends y = distill(x, T); an attacker delivers a uint8 image z with
|z - y| <= e in every sample (e integer, eps = e / 255); the receiver applies the one-pass defense
with T (``_pixel_defense.one_pass``: RGB -> YCbCr, islow FDCT, step-1 quantization, re-quantization
with T). The certificate says the receiver's re-quantized coefficients of z equal those of y, so its
output is bit-identical to the no-attack output, whatever z is. Derivation: spec/feature-distillation.md
section 7.

Everything is computed from fdjpeg's own integer arithmetic: the islow FDCT and IDCT kernels are run
on affine forms (``_Affine``: an exact linear part in the block's 64 samples plus an interval for the
rounding), which gives each frequency's gain and rounding slack exactly as the code computes them.
Only low-level modules are imported (dct, color, encoder's table validation).
"""

from __future__ import annotations

from functools import cache
from numbers import Real

import numpy as np

from ._jit import kernel
from .color import SCALEBITS, YCC_RGB_TABLES, rgb_to_ycbcr, ycbcr_to_rgb
from .dct import CONST_BITS, PASS1_BITS, _fdct_islow, _idct_1d

#: The encoder's subsampling names (encoder.SUBSAMPLING; not imported, so that this module only
#: depends on the layers below the encoder: tables re-exports it and the encoder imports tables).
SUBSAMPLING = ("4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1")

# ---------------------------------------------------------------------------------------------------
# Affine arithmetic: value = vec . s + const + noise . d, with s the 64 inputs of one block and d the
# rounding errors, one symbol per descale (floor(w / 2**n) = w / 2**n + d, d in (-1, 0]). Keeping one
# symbol per rounding (instead of an interval) keeps their cancellations: e.g. the sum of a row of
# IDCT outputs depends only on the row's DC, so only that pass-1 rounding reaches the block's DC.

_SYMBOLS = 160  # the islow FDCT has 48 + 64 descales, the IDCT 64 + 64
_next_symbol = [0]  # the next free symbol of the transform being traced


class _Affine:
    __slots__ = ("const", "noise", "vec")

    def __init__(self, vec, const=0.0, noise=None):
        self.vec, self.const = vec, const
        self.noise = np.zeros(_SYMBOLS) if noise is None else noise

    def __add__(self, o):
        if isinstance(o, _Affine):
            return _Affine(self.vec + o.vec, self.const + o.const, self.noise + o.noise)
        return _Affine(self.vec, self.const + o, self.noise)

    __radd__ = __add__

    def __neg__(self):
        return _Affine(-self.vec, -self.const, -self.noise)

    def __sub__(self, o):
        return self + (-o)

    def __rsub__(self, o):
        return (-self) + o

    def __mul__(self, k):
        k = int(k)
        return _Affine(self.vec * k, self.const * k, self.noise * k)

    __rmul__ = __mul__

    def __lshift__(self, n):
        return self * (1 << int(n))

    def __rshift__(self, n):
        f = float(1 << int(n))
        noise = self.noise / f
        noise[_next_symbol[0]] = 1.0
        _next_symbol[0] += 1
        return _Affine(self.vec / f, self.const / f, noise)


def _variables():
    _next_symbol[0] = 0
    eye = np.eye(64)
    return np.array([_Affine(eye[i].copy()) for i in range(64)], dtype=object)


def _noise_range(noise, const):
    """Range of const + noise . d over d in [-1, 0]^K, row by row."""
    return const - np.clip(noise, 0, None).sum(axis=-1), const + np.clip(-noise, 0, None).sum(axis=-1)


def _collect(forms):
    return (np.array([f.vec for f in forms]), np.array([f.const for f in forms]),
            np.array([f.noise for f in forms]))


@cache
def _fdct_forms():
    """The islow FDCT (dct._fdct_islow, traced on forms) -> (A (64, 64), const (64), noise (64, K)):
    FDCT_int(s) = A s + const + noise . d for some d in [-1, 0]^K, for any level-shifted integer block s."""
    ws = _variables()
    _fdct_islow.py_func(ws)
    return _collect(ws)


def _fdct_rounding():
    """Per frequency, the range [lo, hi] of FDCT_int(s) - A s (x units)."""
    _, const, noise = _fdct_forms()
    return _noise_range(noise, const)


@cache
def _idct_forms():
    """The islow IDCT of dequantized coefficients w (dct._idct_islow_block's arithmetic without
    overflow or range limiting, traced on forms) -> (B, const, noise): sample - 128 = B w + const + noise . d."""
    deq = _variables()
    n1 = CONST_BITS - PASS1_BITS
    n2 = CONST_BITS + PASS1_BITS + 3
    ws = np.empty(64, dtype=object)
    for c in range(8):
        res = _idct_1d.py_func(*[deq[8 * r + c] for r in range(8)], False)
        for r in range(8):
            ws[8 * r + c] = (res[r] + (1 << (n1 - 1))) >> n1
    out = np.empty(64, dtype=object)
    for r in range(8):
        res = _idct_1d.py_func(*[ws[8 * r + c] for c in range(8)], False)
        for c in range(8):
            out[8 * r + c] = (res[c] + (1 << (n2 - 1))) >> n2
    return _collect(out)


def fdct_gain() -> np.ndarray:
    """G(u, v) = ||A_uv||_1: the largest change of the islow FDCT output (scaled by 8, before the
    quantizer) per unit change of every sample of the block; 8x8, natural order. 64 at DC."""
    a = _fdct_forms()[0]
    return np.abs(a).sum(axis=1).reshape(8, 8)


# ---------------------------------------------------------------------------------------------------
# The receiver's quantizer as a function of the FDCT output x (scaled by 8).


def _half_width(q) -> np.ndarray:
    """W(Q): x stays in the bin of 8kQ iff |x - 8kQ| <= W(Q) (the narrower side). Step 1 rounds
    C = sign(x) * ((|x| + 4) >> 3); re-quantization m = (|C| + Q // 2) // Q. The bin of k >= 1 in
    |C| is [kQ - Q//2, kQ + Q - 1 - Q//2], so in |x| it is [8(kQ - Q//2) - 4, 8(kQ + Q - 1 - Q//2) + 3];
    the narrower side is 8 * ceil(Q / 2) - 5 (4Q - 1 for odd Q, 4Q - 5 for even Q: ties go up)."""
    q = np.asarray(q, dtype=np.int64)
    return 8 * ((q + 1) // 2) - 5


def _bin_bounds(x, q):
    """For integer FDCT outputs x and steps q (broadcast), the receiver's bin [lo, hi] of each x."""
    x = np.asarray(x, dtype=np.int64)
    q = np.asarray(q, dtype=np.int64)
    h = q // 2
    c = (np.abs(x) + 4) >> 3
    m = (c + h) // q
    # |x| range of m: m == 0 -> [0, 8(q-1-h)+3]; else [8(mq - h) - 4, 8(mq + q - 1 - h) + 3].
    top = 8 * (m * q + q - 1 - h) + 3
    bottom = np.where(m == 0, -top, 8 * (m * q - h) - 4)
    lo = np.where(x >= 0, bottom, -top)
    hi = np.where(x >= 0, top, -bottom)
    return lo, hi


# ---------------------------------------------------------------------------------------------------
# The colour round trip of the benign image (decoded planes D -> RGB -> receiver's planes P).


#: Over every YCbCr triple whose RGB conversion needs no clipping: min and max of P_c - D_c, where
#: P = rgb_to_ycbcr(ycbcr_to_rgb(D)) with the codec's fixed-point arithmetic. Checked exhaustively
#: by tests/test_certified.py::test_colour_round_trip_error.
COLOUR_ROUND_TRIP = {"Y": (0, 0), "Cb": (0, 0), "Cr": (0, 0)}


def colour_round_trip_error() -> dict:
    """Recompute COLOUR_ROUND_TRIP exhaustively (2**24 triples; about a second)."""
    lo = {k: 0 for k in COLOUR_ROUND_TRIP}
    hi = {k: 0 for k in COLOUR_ROUND_TRIP}
    cb, cr = np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8), indexing="ij")
    for yv in range(256):
        y = np.full_like(cb, yv)
        rgb = ycbcr_to_rgb(y, cb, cr)
        back = rgb_to_ycbcr(rgb)
        unclipped = _unclipped(y, cb, cr)
        for name, d, p in zip(("Y", "Cb", "Cr"), (y, cb, cr), back):
            diff = p.astype(np.int64)[unclipped] - d.astype(np.int64)[unclipped]
            if diff.size:
                lo[name] = min(lo[name], int(diff.min()))
                hi[name] = max(hi[name], int(diff.max()))
    return {k: (lo[k], hi[k]) for k in lo}


def _unclipped(y, cb, cr):
    """Mask of YCbCr triples whose fixed-point RGB conversion lands in 0..255 without clipping."""
    t = YCC_RGB_TABLES
    yy = y.astype(np.int64)
    r = yy + t[0][cr]
    g = yy + ((t[3][cb] + t[2][cr]) >> SCALEBITS)
    b = yy + t[1][cb]
    return (r >= 0) & (r <= 255) & (g >= 0) & (g <= 255) & (b >= 0) & (b <= 255)


# ---------------------------------------------------------------------------------------------------
# Certificates.

@cache
def _residual_terms(colour_lo: int, colour_hi: int):
    """Per frequency, for the image-independent certificate (4:4:4, nothing clipped): the range
    [r_lo, r_hi] (x units) of x(z) - 8w without the perturbation's own term A delta (|.| <= G e, added
    by the caller), where w = kQ are the source's dequantized coefficients:

        x(z) - 8w = (A B - 8 I) w + A (B-rounding + colour) + FDCT-rounding + A delta.
    """
    a, fconst, fnoise = _fdct_forms()
    b, iconst, inoise = _idct_forms()
    gain = np.abs(a).sum(axis=1)
    # |w_j| <= max |orthonormal DCT_j| of a level-shifted 8-bit block (128 * G_j / 8) + Q / 2 (<= 128)
    wmax = 16 * gain + 128
    lin = np.abs(a @ b - 8 * np.eye(64)) @ wmax
    ilo, ihi = _noise_range(a @ inoise, a @ iconst)  # the IDCT's roundings, seen by the FDCT
    flo, fhi = _noise_range(fnoise, fconst)
    pos, neg = np.clip(a, 0, None).sum(axis=1), np.clip(a, None, 0).sum(axis=1)
    clo, chi = pos * colour_lo + neg * colour_hi, pos * colour_hi + neg * colour_lo
    return ilo + flo + clo - lin, ihi + fhi + chi + lin


def _largest_e(gain, lo_room, hi_room, cap=255):
    """Largest integer e in 0..cap with every (integer-valued) x moved by at most gain*e + slack staying
    in its bin: floor(hi_need(e)) <= hi_room and ceil(lo_need(e)) <= lo_room elementwise; -1 if none.
    lo_room/hi_room: room minus the e-independent slack (floats); gain > 0."""
    best = -1
    for e in range(cap + 1):  # tiny (<= 256 vectorised steps); monotone, so stop at the first failure
        if np.all(np.floor(gain * e + hi_room[1]) <= hi_room[0]) and np.all(np.floor(gain * e + lo_room[1]) <= lo_room[0]):
            best = e
        else:
            break
    return best


def _check_table(table, name: str) -> np.ndarray:
    arr = np.asarray(table)
    if arr.shape not in ((8, 8), (64,)):
        raise ValueError(f"{name} must be an 8x8 table (or 64 values in natural order), got shape {arr.shape}")
    try:
        vals = arr.astype(np.float64).reshape(64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must contain integers 1..255") from None
    bad = ~np.isfinite(vals) | (vals != np.round(vals)) | (vals < 1) | (vals > 255)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}[{i // 8}][{i % 8}] = {arr.reshape(64)[i]!r}: steps must be integers 1..255")
    return vals.astype(np.int64)


def _check_tables(tables):
    """One 8x8 table for every component or (luma, chroma) -> (luma, chroma) as int64 (64,) natural
    order. (The encoder's _validate_tables rules; not imported, so that this module sits below it.)"""
    arr = np.asarray(tables, dtype=object) if isinstance(tables, (list, tuple)) else np.asarray(tables)
    if arr.shape in ((8, 8), (64,)):
        t = _check_table(tables, "tables")
        return t, t
    if isinstance(tables, (list, tuple)) and len(tables) in (1, 2):
        tabs = [_check_table(t, f"tables[{i}]") for i, t in enumerate(tables)]
        return tabs[0], tabs[-1]
    raise ValueError(f"tables must be one 8x8 table or (luma, chroma), got {type(tables).__name__} of shape {np.shape(tables)}")


def certified_pixels(tables, subsampling: str = "4:4:4", *, image=None, grayscale: bool = False) -> int:
    """The certified radius in integer sample units (see ``certified_eps``); -1 if even an unperturbed
    image is not guaranteed to come back unchanged (the image-independent residual exceeds a bin)."""
    luma, chroma = _check_tables(tables)
    if not isinstance(subsampling, str) or subsampling not in SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {', '.join(SUBSAMPLING)}, got {subsampling!r}")
    gain = fdct_gain().reshape(64)
    flo, fhi = _fdct_rounding()
    spread = fhi - flo  # the roundings of two FDCT evaluations differ by at most this
    if image is not None:
        return _image_radius(image, luma, chroma, gain, spread)
    if subsampling != "4:4:4" and not grayscale:
        return -1
    best = 255
    comps = [("Y", luma)] if grayscale else [("Y", luma), ("Cb", chroma), ("Cr", chroma)]
    for name, q in comps:
        clo, chi = (0, 0) if grayscale else COLOUR_ROUND_TRIP[name]
        rlo, rhi = _residual_terms(clo, chi)
        w = _half_width(q).astype(np.float64)
        # need: floor(rhi + G e) <= W and ceil(rlo - G e) >= -W  <=>  floor(-rlo + G e) <= W
        best = min(best, _largest_e(gain, (w, -rlo), (w, rhi)))
    return best


def _image_radius(image, luma, chroma, gain, spread) -> int:
    x = np.asarray(image)
    if x.dtype != np.uint8:
        raise TypeError(f"image must be uint8 (the benign image the receiver gets), got {x.dtype}")
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]
    if not (x.ndim == 2 or (x.ndim == 3 and x.shape[2] == 3)) or 0 in x.shape:
        raise ValueError(f"image must be (H, W) or (H, W, 3), got shape {np.shape(image)}")
    planes = [x] if x.ndim == 2 else list(rgb_to_ycbcr(x))
    best = 255
    for c, plane in enumerate(planes):
        q = luma if c == 0 else chroma
        xs = receiver_fdct(plane)  # (n, 64)
        lo, hi = _bin_bounds(xs, q)
        # x(z) in [x(y) - G e - spread, x(y) + G e + spread] must stay in [lo, hi]
        room_hi = (hi - xs).astype(np.float64)
        room_lo = (xs - lo).astype(np.float64)
        best = min(best, _largest_e(gain, (room_lo, spread), (room_hi, spread)))
    return best


@kernel
def _fdct_blocks(plane, out):
    ws = np.empty(64, dtype=np.int32)
    nbx = plane.shape[1] // 8
    for by in range(plane.shape[0] // 8):
        for bx in range(nbx):
            for r in range(8):
                for c in range(8):
                    ws[r * 8 + c] = np.int32(plane[by * 8 + r, bx * 8 + c]) - 128
            _fdct_islow(ws)
            for i in range(64):
                out[by * nbx + bx, i] = ws[i]


def receiver_fdct(plane: np.ndarray) -> np.ndarray:
    """The receiver's islow FDCT outputs (x, scaled by 8, before quantization) of one uint8 plane,
    edge-padded to whole blocks like the encoder: (blocks, 64) int32, natural order, raster block order."""
    p = np.asarray(plane, dtype=np.uint8)
    h, w = p.shape
    p = np.ascontiguousarray(np.pad(p, ((0, -h % 8), (0, -w % 8)), mode="edge"))
    out = np.empty(((p.shape[0] // 8) * (p.shape[1] // 8), 64), dtype=np.int32)
    _fdct_blocks(p, out)
    return out


def certified_eps(tables, subsampling: str = "4:4:4", *, image=None, grayscale: bool = False) -> float:
    """The largest L-inf radius eps (pixel scale 0..1) that two-pass feature distillation with
    ``tables`` provably removes: the attacker delivers any uint8 image z with |z - y| <= 255 eps per
    sample, where y = distill(x, tables, subsampling=subsampling) is the source's benign image, and
    the receiver's one-pass defense with ``tables`` re-quantizes z to exactly y's coefficients.

    Returns e / 255 for the largest integer e (a float attack with 255 eps < e + 1/2 rounds into it).

    Without ``image``: image-independent, for every source image x whose decoded image is not clipped
    (no IDCT sample outside 0..255, no RGB value clipped); only for 4:4:4 colour (or ``grayscale``):
    with chroma subsampling the receiver's full-resolution chroma coefficients of the upsampled
    planes are not near multiples of the steps, so no image-independent radius exists and 0.0 is
    returned. With ``image=y`` (uint8, the benign image as the receiver gets it): the exact-arithmetic
    radius of that image, valid for any subsampling and with clipping. 0.0 also when nothing is
    certified. Derivation: spec/feature-distillation.md section 7.
    """
    if grayscale not in (True, False):
        raise TypeError(f"grayscale must be a bool, got {grayscale!r}")
    return max(certified_pixels(tables, subsampling, image=image, grayscale=grayscale), 0) / 255.0


def certified(eps: float, subsampling: str = "4:4:4", *, grayscale: bool = False) -> np.ndarray:
    """The 8x8 table (natural order, uint16, for every component) with the smallest step at every
    frequency among those that ``certified_eps`` certifies for ``eps`` (pixel scale 0..1).

    The certificate is per frequency and monotone in the step, so this table is elementwise the
    smallest certified table: every other certified table is coarser at some frequency and keeps
    less of the image. Raises ValueError when no legal table (steps <= 255) is certified for eps,
    or for subsampled chroma (no image-independent certificate exists; see ``certified_eps``).
    """
    if isinstance(eps, bool) or not isinstance(eps, Real) or not (0 <= eps <= 1):
        raise ValueError(f"eps must be a number in [0, 1] (pixel scale 0..1), got {eps!r}")
    if not isinstance(subsampling, str) or subsampling not in SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {', '.join(SUBSAMPLING)}, got {subsampling!r}")
    if subsampling != "4:4:4" and not grayscale:
        raise ValueError(f"no image-independent certificate exists for subsampling {subsampling!r}; use '4:4:4'")
    e = int(np.floor(eps * 255 + 1e-9))
    gain = fdct_gain().reshape(64)
    steps = np.arange(1, 256)
    w = _half_width(steps).astype(np.float64)  # non-decreasing in Q
    table = np.ones(64, dtype=np.int64)
    names = ("Y",) if grayscale else ("Y", "Cb", "Cr")
    for name in names:
        clo, chi = (0, 0) if grayscale else COLOUR_ROUND_TRIP[name]
        rlo, rhi = _residual_terms(clo, chi)
        need = np.maximum(np.floor(gain * e + rhi), np.floor(gain * e - rlo))  # W(Q) >= need
        for i in range(64):
            ok = np.nonzero(w >= need[i])[0]
            if ok.size == 0:
                raise ValueError(f"no baseline step (<= 255) is certified for eps={eps!r} at frequency {i}")
            table[i] = max(table[i], steps[ok[0]])
    return table.reshape(8, 8).astype(np.uint16)
