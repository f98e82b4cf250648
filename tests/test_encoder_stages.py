"""The encoder's stages against references: the islow FDCT and quantization against the float DCT of
tests/naive.py (bounded error), and the fused front end (encoder/prepare.py, one pass per strip) against
the stage kernels run one after the other on whole planes (colour conversion, edge replication,
downsampling, FDCT and quantization)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from fdjpeg.base.layout import SUBSAMPLING, FrameLayout
from fdjpeg.encoder.color import rgb_to_ycbcr
from fdjpeg.encoder.compress import image_to_coefficients
from fdjpeg.encoder.downsample import downsample, pad_plane
from fdjpeg.encoder.fdct import _fdct_islow, forward_dct_quantize
from fdjpeg.testing import images, quant_tables

import naive

_KINDS = ("noise", "gradient", "smooth")


def _plane(rng, kind, rows, cols):
    if kind == "noise":
        px = rng.integers(0, 256, (rows, cols))
    elif kind == "gradient":
        px = np.add.outer(np.arange(rows) * rng.integers(0, 16), np.arange(cols) * rng.integers(0, 16)) % 256
    else:
        px = np.clip(rng.normal(128, 60, (rows, cols)), 0, 255)
    return px.astype(np.uint8)


@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(_KINDS))
def test_islow_fdct_close_to_float_reference(seed, kind):
    """jfdctint's 13-bit fixed point stays within 2 units (of the 8x-scaled output) of the exact DCT."""
    b = _plane(np.random.default_rng(seed), kind, 8, 8)
    ws = (b.astype(np.int32) - 128).reshape(64).copy()
    _fdct_islow(ws)
    assert np.abs(ws - naive.fdct(b.astype(np.float64) - 128).reshape(64)).max() <= 2


@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(_KINDS), q=quant_tables(max_value=64))
def test_quantized_fdct_close_to_float_reference(seed, kind, q):
    """Quantized coefficients differ from rounding the exact DCT by at most one step."""
    px = _plane(np.random.default_rng(seed), kind, 24, 32)
    assert np.abs(forward_dct_quantize(px, q).astype(np.int64) - naive.fdct_quantize(px, q)).max() <= 1


def test_quantized_fdct_mostly_equals_float_reference():
    """...and rarely differs at all (rounding ties and the fixed-point error on a few coefficients)."""
    rng = np.random.default_rng(12)
    differ = total = 0
    for k in range(60):
        px = _plane(rng, _KINDS[k % 3], 32, 32)
        q = rng.integers(1, 64, (8, 8))
        ours = forward_dct_quantize(px, q)
        differ += int((ours != naive.fdct_quantize(px, q)).sum())
        total += ours.size
    assert differ / total < 0.02


def _stage_by_stage(image, qtables, subsampling):
    """The encoder's stages run one after the other on whole planes: RGB -> YCbCr, edge replication to
    whole row groups and block columns, downsampling, replication of the last downsampled row to the
    block grid, FDCT and quantization. -> per component, its real (unpadded) blocks (by, bx, 64)."""
    height, width = image.shape[:2]
    gray = image.ndim == 2
    sampling = ((1, 1),) if gray else (SUBSAMPLING[subsampling], (1, 1), (1, 1))
    layout = FrameLayout(width, height, sampling)
    planes = [image] if gray else list(rgb_to_ycbcr(image))
    tq = [0] if gray else ([0, 1, 1] if len(qtables) == 2 else [0, 0, 0])
    out = []
    for c, plane in enumerate(planes):
        h, v = sampling[c]
        hexp, vexp = layout.max_h // h, layout.max_v // v
        by, bx = layout.blocks(c)
        group_rows = -(-height // layout.max_v) * layout.max_v
        full = pad_plane(plane, group_rows, bx * 8 * hexp)
        down = downsample(full, hexp, vexp)
        blocks = forward_dct_quantize(pad_plane(down, by * 8, bx * 8), qtables[tq[c]])
        out.append(blocks)
    return out


@given(image=images(max_side=48), subsampling=st.sampled_from(list(SUBSAMPLING)), q=quant_tables(), two=st.booleans())
def test_fused_front_end_equals_the_stage_kernels(image, subsampling, q, two):
    qtables = [q, np.flipud(q).copy()] if two else [q]
    coefs = image_to_coefficients(image, qtables, subsampling)  # the fused front end (prepare.py)
    for c, ref in enumerate(_stage_by_stage(image, qtables, subsampling)):
        by, bx = ref.shape[:2]
        got = coefs.components[c][:by, :bx].reshape(by, bx, 64)
        assert np.array_equal(got, ref), f"component {c}"


@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0), st.sampled_from([1023, 1024, 32767]))
def test_zigzag_block_is_the_zigzag_scan(seed, density, top):
    """encoder.huff_vec.zigzag_block (the vector intrinsic on C-contiguous blocks, the compiled loop on a
    strided view, the Python reference) gives the zigzag order (AC values x as x - (x < 0)), the map of
    nonzero AC positions, and in bit 0 whether an AC value lies outside -1023..1023 (never the DC)."""
    from numba import njit

    from fdjpeg.base.zigzag import ZIGZAG
    from fdjpeg.encoder.huff_vec import zigzag_block

    @njit
    def compiled(blocks, b, scratch):
        return zigzag_block(blocks, b, scratch)

    rng = np.random.default_rng(seed)
    blocks = (rng.integers(-top - 1, top + 1, (4, 64)) * (rng.random((4, 64)) < density)).astype(np.int16)
    blocks[rng.integers(0, 4), 0] = -32768  # an out-of-range DC sets no bit
    strided = np.repeat(blocks, 2, axis=0)[::2]
    for b in range(4):
        x = blocks[b, ZIGZAG].astype(np.int64)
        want_bits = np.concatenate([x[:1], x[1:] - (x[1:] < 0)]).astype(np.int16)  # -32769 wraps to 32767
        want = sum(1 << i for i in range(1, 64) if x[i] != 0) | int(np.any(np.abs(x[1:]) > 1023))
        for fn, arr in ((compiled, blocks), (compiled, strided), (zigzag_block, blocks)):
            scratch = np.full(64, 7, np.int16)
            assert int(fn(arr, b, scratch)) == want
            assert np.array_equal(scratch, want_bits)


def test_store_be64_writes_the_word_most_significant_byte_first():
    from numba import njit

    from fdjpeg.encoder.huff_vec import store_be64

    @njit
    def compiled(out, pos, word):
        store_be64(out, pos, word)

    word = np.uint64(0x0123456789ABCDEF)
    want = bytes.fromhex("0123456789abcdef")
    for fn, n in ((compiled, 11), (store_be64, 11)):
        out = np.zeros(n, np.uint8)
        fn(out, 2, word)
        assert out.tobytes() == b"\0\0" + want + b"\0"
    strided = np.zeros(22, np.uint8)
    compiled(strided[::2], 1, word)  # the fallback for a non-contiguous array
    assert strided[::2].tobytes() == b"\0" + want + b"\0\0"


def test_stuff64_writes_eight_bytes_with_a_zero_after_each_ff():
    from fdjpeg.encoder.entropy import _stuff64

    out = np.zeros(24, np.uint8)
    pos = _stuff64(np.uint64(0xA25FE695_01020304), out, 0)
    assert pos == 8 and out[:8].tolist() == [0xA2, 0x5F, 0xE6, 0x95, 1, 2, 3, 4]
    pos = _stuff64(np.uint64(0x12FF34AB_FFFF00FF), out, 1)
    want = [0x12, 0xFF, 0x00, 0x34, 0xAB, 0xFF, 0x00, 0xFF, 0x00, 0x00, 0xFF, 0x00]
    assert pos == 13 and out[1:13].tolist() == want
