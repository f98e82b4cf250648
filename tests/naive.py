"""Slow float references for the codec's integer kernels (stumpy's naive.py idea): the orthonormal
8x8 DCT of T.81 A.3.3 computed with matrices, and the statistics fdjpeg.tables computes from it. The
tests compare the fixed-point kernels with these; nothing in fdjpeg imports them.
"""

from __future__ import annotations

import numpy as np


def dct_matrix() -> np.ndarray:
    """The orthonormal 8-point DCT-II matrix C, so that a block's 2-D DCT is C @ B @ C.T."""
    k = np.arange(8)[:, None]
    n = np.arange(8)[None, :]
    c = np.cos((2 * n + 1) * k * np.pi / 16) * np.sqrt(2 / 8)
    c[0] /= np.sqrt(2)
    return c


def fdct(block) -> np.ndarray:
    """Orthonormal 2-D DCT of an 8x8 block, times 8 (the scale libjpeg's islow FDCT leaves it at)."""
    c = dct_matrix()
    return 8.0 * (c @ np.asarray(block, dtype=np.float64) @ c.T)


def idct(dequantized) -> np.ndarray:
    """The orthonormal 2-D inverse DCT C.T @ X @ C of one dequantized 8x8 block (coefficient * quantizer,
    the islow IDCT's input scale), before the +128 level shift."""
    c = dct_matrix()
    return c.T @ np.asarray(dequantized, dtype=np.float64) @ c


def fdct_quantize(plane, qtable) -> np.ndarray:
    """Quantized coefficients (by, bx, 64) of a uint8 plane (sides multiples of 8): level shift, float
    DCT, division by Q, rounding half away from zero -- what the islow FDCT + quantization approximate."""
    p = np.asarray(plane, np.float64) - 128
    by, bx = p.shape[0] // 8, p.shape[1] // 8
    blocks = p.reshape(by, 8, bx, 8).transpose(0, 2, 1, 3)
    c = dct_matrix()
    coefs = np.einsum("ij,yxjk,lk->yxil", c, blocks, c) / np.asarray(qtable, np.float64).reshape(8, 8)
    return (np.sign(coefs) * np.floor(np.abs(coefs) + 0.5)).reshape(by, bx, 64)


def idct_pixels(coefs, q) -> np.ndarray:
    """Decode of (by, bx, 8, 8) quantized coefficients: float IDCT, +128, round half up, clamp."""
    by, bx = coefs.shape[:2]
    out = np.empty((by * 8, bx * 8))
    for i in range(by):
        for j in range(bx):
            out[i * 8 : i * 8 + 8, j * 8 : j * 8 + 8] = idct(coefs[i, j] * q) + 128
    return np.clip(np.floor(out + 0.5 + 1e-9), 0, 255)  # libjpeg rounds exact halves up


def idct_planes(coefs):
    """Each component of a JPEGCoefficients dequantized and inverse-transformed in float, +128."""
    c = dct_matrix()
    planes = []
    for comp, q in zip(coefs.components, coefs.quant_tables):
        blocks = comp.astype(np.float64) * q.astype(np.float64)
        pix = np.einsum("ki,yxkl,lj->yxij", c, blocks, c) + 128.0  # T.81's DCT is the orthonormal one
        planes.append(pix.transpose(0, 2, 1, 3).reshape(comp.shape[0] * 8, comp.shape[1] * 8))
    return planes


def band_std(planes_per_image, component: str) -> np.ndarray:
    """delta(i, j) of feature distillation: the standard deviation of each orthonormal DCT frequency over
    every edge-padded 8x8 block. ``planes_per_image``: per image, its [Y] or [Y, Cb, Cr] planes."""
    c = dct_matrix()
    coefs = []
    for planes in planes_per_image:
        chosen = {"luma": planes[:1], "chroma": planes[1:], "all": planes}[component]
        for p in chosen:
            h, w = p.shape
            p = np.pad(p, ((0, -h % 8), (0, -w % 8)), mode="edge").astype(np.float64) - 128
            blocks = p.reshape(p.shape[0] // 8, 8, p.shape[1] // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8)
            coefs.append(np.einsum("ij,bjk,lk->bil", c, blocks, c).reshape(-1, 64))
    return np.concatenate(coefs).std(axis=0).reshape(8, 8)
