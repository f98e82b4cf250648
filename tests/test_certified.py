"""Certified two-pass feature distillation (issue 18): the bound of fdjpeg.certify against the real codec.

Two-pass: y = distill(x, T); the attacker delivers any uint8 z with |z - y| <= e; the receiver runs the
one-pass defense with T. Certified means: the receiver's re-quantized coefficients of z equal those of y
(100% of coefficients, every example), checked here with the codec's own encoder + requantizer.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fdjpeg import certify, distill, samples, tables
from fdjpeg._pixel_defense import one_pass
from fdjpeg.coefficients import JPEGCoefficients
from fdjpeg.dct import _fdct_islow, _idct_islow_block, dct_matrix
from fdjpeg.distill import requantize_coefficients
from fdjpeg.encoder import image_to_coefficients

ONES = np.ones((8, 8), np.uint16)
#: RGB sign of each component's conversion row: a perturbation s * e * ROW_SIGN[c] moves plane c by s*e.
ROW_SIGN = {0: np.array([1, 1, 1]), 1: np.array([-1, -1, 1]), 2: np.array([1, -1, -1])}


def receiver_coefficients(img: np.ndarray, tabs) -> list[np.ndarray]:
    """The receiver's re-quantized coefficients (one-pass defense, 4:4:4), through the codec's stages."""
    layout, blocks, tq = image_to_coefficients(img, [ONES], "4:4:4")
    coefs = JPEGCoefficients(
        layout.width, layout.height, [b.reshape(b.shape[0], b.shape[1], 8, 8) for b in blocks],
        [ONES for _ in tq], list(layout.sampling), [1] if img.ndim == 2 else [1, 2, 3],
        "L" if img.ndim == 2 else "YCbCr",
    )  # fmt: skip
    return [c.copy() for c in requantize_coefficients(coefs, tabs).components]


def assert_restored(y: np.ndarray, z: np.ndarray, table):
    assert np.abs(z.astype(int) - y.astype(int)).max() >= 0
    tabs = [np.asarray(table, np.uint16)]
    for a, b in zip(receiver_coefficients(y, tabs), receiver_coefficients(z, tabs)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one_pass(y, table), one_pass(z, table))


def aligned_perturbation(shape, e: int, freq: int, signs: np.ndarray, comp: int) -> np.ndarray:
    """Per block: e * sign(basis of natural frequency ``freq``) * the block's sign, along the RGB
    direction that moves component ``comp`` by exactly that much (the worst case for that frequency)."""
    h, w = shape[:2]
    basis = np.sign(dct_matrix()[freq // 8][:, None] * dct_matrix()[freq % 8][None, :])
    basis[basis == 0] = 1
    tile = np.tile(basis, (h // 8, w // 8)) * np.kron(signs, np.ones((8, 8)))
    return (e * tile)[:, :, None] * ROW_SIGN[comp][None, None, :]


def decoded_unclipped(x: np.ndarray, table) -> bool:
    """Sufficient for the image-independent certificate's assumption: the source's decoded YCbCr
    planes need no range limiting (float IDCT of the dequantized coefficients inside [1, 254], which
    covers islow's rounding error < 0.67) and no RGB value of y is 0 or 255 (so none was clipped)."""
    _, blocks, _ = image_to_coefficients(x, [np.asarray(table, np.uint16)], "4:4:4")
    m = dct_matrix()
    q = np.asarray(table, np.float64).reshape(64)
    for b in blocks:
        deq = (b.reshape(-1, 64) * q).reshape(-1, 8, 8)
        pix = np.einsum("ui,nuv,vj->nij", m, deq, m) + 128
        if pix.min() < 1 or pix.max() > 254:
            return False
    y = distill(x, table)
    return bool(((y > 0) & (y < 255)).all())


# --- the arithmetic the bound is built from ----------------------------------------------------------


def test_colour_round_trip_error():
    assert certify.colour_round_trip_error() == certify.COLOUR_ROUND_TRIP


@given(st.integers(0, 2**32 - 1))
def test_fdct_forms_contain_the_kernel(seed):
    rng = np.random.default_rng(seed)
    s = rng.integers(-128, 128, 64)
    ws = s.astype(np.int32).copy()
    _fdct_islow(ws)
    a = certify._fdct_forms()[0]
    lo, hi = certify._fdct_rounding()
    exact = a @ s
    assert np.all(ws >= exact + lo - 1e-9) and np.all(ws <= exact + hi + 1e-9)


@given(st.integers(0, 2**32 - 1))
def test_idct_forms_contain_the_kernel(seed):
    rng = np.random.default_rng(seed)
    w = rng.integers(-60, 61, 64) * rng.integers(1, 4, 64)
    w[0] = rng.integers(-600, 600)
    out = np.zeros((8, 8), np.uint8)
    _idct_islow_block(w.astype(np.int64), np.ones(64, np.int64), out, 0, 0, False, np.empty(128, np.int64))
    b, const, noise = certify._idct_forms()
    lo, hi = certify._noise_range(noise, const)
    exact = b @ w + 128
    ok = (exact + lo > 0) & (exact + hi < 255)  # unclipped samples only
    v = out.reshape(64).astype(float)
    assert np.all(v[ok] >= (exact + lo)[ok] - 1e-9) and np.all(v[ok] <= (exact + hi)[ok] + 1e-9)


def test_gain_is_the_orthonormal_gain_times_8():
    g = certify.fdct_gain()
    m = np.abs(dct_matrix()).sum(axis=1)
    np.testing.assert_allclose(g, 8 * np.outer(m, m), rtol=2e-3)
    assert g[0, 0] == 64


# --- the certificate on the real codec -----------------------------------------------------------------


def smooth_image(rng, h, w):
    """Mid-range, smooth-ish colour image (so the source decode does not clip), random texture."""
    base = rng.integers(70, 186, (h // 8 + 2, w // 8 + 2, 3)).astype(float)
    up = np.kron(base, np.ones((8, 8, 1)))[:h, :w]
    noise = rng.normal(0, rng.uniform(0, 12), (h, w, 3))
    return np.clip(up + noise, 40, 215).astype(np.uint8)


@given(seed=st.integers(0, 2**32 - 1), e=st.integers(1, 8), pattern=st.sampled_from(["random", "aligned"]))
def test_image_independent_certificate_holds(seed, e, pattern):
    rng = np.random.default_rng(seed)
    table = certify.certified(e / 255).astype(np.int64)
    table += rng.integers(0, 3, (8, 8)) * rng.integers(0, 2, (8, 8))  # any coarser table is certified too
    table = np.minimum(table, 255)
    assert certify.certified_pixels(table) >= e
    x = smooth_image(rng, 8 * int(rng.integers(1, 5)), 8 * int(rng.integers(1, 5)))
    assume(decoded_unclipped(x, table))
    y = distill(x, table)
    h, w = y.shape[:2]
    if pattern == "random":
        d = rng.choice([-e, e], y.shape)
    else:
        freq = int(rng.integers(0, 64))
        d = aligned_perturbation(y.shape, e, freq, rng.choice([-1, 1], (h // 8, w // 8)), int(rng.integers(0, 3)))
    z = np.clip(y.astype(int) + d, 0, 255).astype(np.uint8)
    assert_restored(y, z, table)


@pytest.mark.parametrize("e", [1, 3, 6])
def test_image_independent_certificate_grayscale(e):
    rng = np.random.default_rng(e)
    table = certify.certified(e / 255, "4:2:0", grayscale=True)  # no chroma: subsampling is irrelevant
    assert certify.certified_pixels(table, "4:2:0", grayscale=True) >= e
    x = smooth_image(rng, 48, 64)[:, :, 0].copy()
    assert decoded_unclipped(np.repeat(x[:, :, None], 3, axis=2), table)  # same Y plane, no clipping
    y = distill(x, table)
    for pattern in range(4):
        d = rng.choice([-e, e], y.shape) if pattern < 2 else e * (1 if pattern == 2 else -1)
        assert_restored(y, np.clip(y.astype(int) + d, 0, 255).astype(np.uint8), table)


@given(seed=st.integers(0, 2**32 - 1), sub=st.sampled_from(["4:4:4", "4:2:0"]), photo=st.booleans())
def test_per_image_certificate_holds(seed, sub, photo):
    """image=y: any image (clipping, odd sizes, subsampled source), any table with a radius >= 1."""
    rng = np.random.default_rng(seed)
    table = np.minimum(certify.certified(int(rng.integers(1, 9)) / 255).astype(np.int64) + rng.integers(0, 20, (8, 8)), 255)
    if photo:
        img = samples.load(samples.NAMES[int(rng.integers(0, 4))])
        r0, c0 = int(rng.integers(0, 200)), int(rng.integers(0, 200))
        x = img[r0:r0 + int(rng.integers(8, 70)), c0:c0 + int(rng.integers(8, 70))].copy()
    else:
        x = smooth_image(rng, int(rng.integers(8, 40)), int(rng.integers(8, 40)))
    y = distill(x, table, subsampling=sub)
    r = certify.certified_pixels(table, image=y)
    assume(r >= 1)
    for _ in range(3):
        d = rng.choice([-r, r], y.shape)
        assert_restored(y, np.clip(y.astype(int) + d, 0, 255).astype(np.uint8), table)


@pytest.mark.parametrize("q", [17, 23, 25, 33, 55, 129, 215])
def test_image_independent_bound_is_tight(q):
    """Flat grey blocks decode to 128 + kQ/8 rounded: with kQ = 4 (mod 8) every sample rounds by +-1/2,
    a DC residual of 32 x units (the bound allows 33.5). Such a block plus a uniform +-(e + 1) moves
    the receiver's DC out of its bin, for an image-independent radius e; +-e never does. For Q = 17..23
    the residual alone decides: ignoring it would certify e = 1."""
    t = np.full((8, 8), q, np.uint16)
    e = certify.certified_pixels(t)
    x = np.repeat(np.arange(20, 236, dtype=np.uint8), 8)[None, :, None].repeat(8, 0).repeat(3, 2)  # flat blocks
    assert decoded_unclipped(x, t)
    y = distill(x, t)
    ry = receiver_coefficients(y, [t])
    broken = 0
    for sign in (1, -1):
        assert_restored(y, (y.astype(int) + sign * e).astype(np.uint8), t)
        rz = receiver_coefficients((y.astype(int) + sign * (e + 1)).astype(np.uint8), [t])
        broken += sum(int((a != b).sum()) for a, b in zip(ry, rz))
    assert broken > 0
    if q <= 23:
        assert e == 0 and certify._half_width(q) >= 64  # the residual-free bound would say e = 1


def test_released_table_is_certified_for_one_level():
    assert tables.certified_eps(tables.preset("released")) == 1 / 255
    assert tables.certified_eps(tables.preset("released"), "4:2:0") == 0.0


def test_per_image_radius_is_tight_up_to_its_slack():
    """Just above the radius, a perturbation aligned with the weakest coefficient's basis breaks it."""
    rng = np.random.default_rng(5)
    table = certify.certified(2 / 255)
    x = smooth_image(rng, 64, 64)
    y = distill(x, table)
    r = certify.certified_pixels(table, image=y)
    assert r >= 2
    broke = None
    for e in range(r + 1, r + 4):
        if _break(y, table, e):
            broke = e
            break
    assert broke is not None and broke <= r + 2, (r, broke)


def _break(y, table, e) -> bool:
    """Push the coefficient with the least room toward its nearer bin edge with an aligned +-e."""
    from fdjpeg.color import rgb_to_ycbcr

    q = np.asarray(table, np.int64).reshape(64)
    a = certify._fdct_forms()[0]
    best = None
    for c, plane in enumerate(rgb_to_ycbcr(y)):
        xs = certify.receiver_fdct(plane)
        lo, hi = certify._bin_bounds(xs, q)
        for room, direction in ((hi - xs, 1), (xs - lo, -1)):
            b, f = np.unravel_index(np.argmin(room), room.shape)
            if best is None or room[b, f] < best[0]:
                best = (room[b, f], c, b, f, direction)
    _, c, b, f, direction = best
    w = y.shape[1]
    by, bx = divmod(int(b), w // 8)
    pattern = np.sign(a[f].reshape(8, 8)).astype(int) * direction
    pattern[pattern == 0] = 1
    z = y.astype(int)
    z[by * 8:by * 8 + 8, bx * 8:bx * 8 + 8] += (e * pattern)[:, :, None] * ROW_SIGN[c][None, None, :]
    z = np.clip(z, 0, 255).astype(np.uint8)
    tabs = [np.asarray(table, np.uint16)]
    return any(not np.array_equal(p, s) for p, s in zip(receiver_coefficients(y, tabs), receiver_coefficients(z, tabs)))


# --- API ------------------------------------------------------------------------------------------------


def test_presets_and_subsampling():
    assert tables.certified_eps(tables.preset("paper")) == 0.0  # step 1: nothing is certified
    assert tables.certified_eps(tables.standard(75)) == 0.0
    assert tables.certified_eps(np.full((8, 8), 129)) == 7 / 255
    assert tables.certified_eps(np.full((8, 8), 129), "4:2:0") == 0.0
    assert tables.certified_eps(np.full((8, 8), 129), "4:2:0", grayscale=True) == 7 / 255


@pytest.mark.parametrize("e", [1, 2, 4, 8, 15])
def test_certified_is_the_smallest_certified_table(e):
    t = tables.certified(e / 255)
    assert t.shape == (8, 8) and t.dtype == np.uint16
    assert certify.certified_pixels(t) >= e
    for i in range(64):
        if t.flat[i] > 1:
            smaller = t.copy()
            smaller.flat[i] -= 1
            assert certify.certified_pixels(smaller) < e


def test_bad_arguments():
    with pytest.raises(ValueError, match="eps"):
        tables.certified(2.0)
    with pytest.raises(ValueError, match="subsampling"):
        tables.certified(2 / 255, "4:2:0")
    with pytest.raises(ValueError, match="no baseline step"):
        tables.certified(16 / 255)
    with pytest.raises(ValueError, match="subsampling"):
        tables.certified_eps(tables.preset("released"), "9:9:9")
    with pytest.raises(TypeError, match="image"):
        tables.certified_eps(tables.preset("released"), image=np.zeros((8, 8), np.float32))
