"""The one-pass defense's kernel (base/requantize.py) against the integer formula of
spec/feature-distillation.md section 4, at the extremes its reciprocal division must survive:
int16 coefficients, 16-bit tables on both sides, and every divisor 1..65535."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from fdjpeg.base.requantize import _reciprocals, _requantize_blocks


def _formula(blocks, q_file, q_new):
    v = blocks.astype(np.int64) * q_file
    m = (np.abs(v) + q_new // 2) // q_new
    lo = np.full(64, -1023)
    lo[0] = -1024
    return np.clip(np.where(v < 0, -m, m), lo, 1023)


@given(
    seed=st.integers(0, 2**32 - 1),
    table_max=st.sampled_from([1, 255, 65535]),
    zeros=st.floats(0.0, 1.0),
)
def test_requantize_blocks_equals_the_integer_formula(seed, table_max, zeros):
    rng = np.random.default_rng(seed)
    blocks = rng.integers(-32768, 32768, (6, 64)).astype(np.int16)
    blocks[rng.random(blocks.shape) < zeros] = 0
    blocks[0], blocks[1] = -32768, 32767  # the largest numerators
    q_file = rng.integers(1, table_max + 1, 64).astype(np.int64)
    q_new = rng.integers(1, table_max + 1, 64).astype(np.int64)
    out = np.empty_like(blocks)
    _requantize_blocks(blocks, q_file, q_new, out)
    assert np.array_equal(out, _formula(blocks, q_file, q_new))


def test_reciprocals_divide_exactly_for_every_16_bit_divisor():
    divisors = np.arange(1, 65536, dtype=np.int64)
    divisors = np.concatenate([divisors, np.ones(-len(divisors) % 64, np.int64)]).reshape(-1, 64)
    magic, shift = np.empty(64, np.int64), np.empty(64, np.int64)
    for d in divisors:
        _reciprocals(d, magic, shift)
        for k in (1, 2, 3, 7, 1000, 2**16):
            for n in (d * k - 1, d * k, np.full(64, 2**31 - 1)):
                n = np.minimum(n, 2**31 - 1)
                assert np.array_equal((n * magic) >> shift, n // d)
