"""BASELINE, not fdjpeg: feature distillation as a straightforward NumPy/SciPy per-8x8-block loop.

This is the kind of code the feature-distillation authors released and a researcher would write first: a
Python loop over every 8x8 block of every channel, ``scipy.fft.dctn`` (orthonormal, which is exactly the
T.81 forward DCT), divide by the quantization table and round, multiply back, ``idctn``. Colour conversion is
the JFIF YCbCr transform in floating point, with 4:4:4 sampling (no chroma subsampling) and edge
replication to a multiple of 8; samples are rounded and clamped to 8 bits between stages, as in a JPEG
codec. The work matches ``fdjpeg.distill(..., subsampling="4:4:4")``.
Its output is close to, not identical with, libjpeg's integer pipeline; the benchmark uses it only as the
speed baseline the issue names (fdjpeg should be >= 100x faster).
"""

from __future__ import annotations

import numpy as np

# JFIF (ITU-T T.871) RGB <-> YCbCr, full range, chroma centred on 128.
_RGB_TO_YCC = np.array([[0.299, 0.587, 0.114], [-0.168735892, -0.331264108, 0.5], [0.5, -0.418687589, -0.081312411]])
_YCC_TO_RGB = np.linalg.inv(_RGB_TO_YCC)


def _quantize_blocks(plane: np.ndarray, table: np.ndarray) -> np.ndarray:
    """One level-shifted channel (multiple of 8 in both dimensions) through DCT, quantize, dequantize,
    IDCT, one block at a time."""
    from scipy.fft import dctn, idctn

    out = np.empty_like(plane)
    for y in range(0, plane.shape[0], 8):
        for x in range(0, plane.shape[1], 8):
            coef = dctn(plane[y : y + 8, x : x + 8], norm="ortho")
            coef = np.round(coef / table) * table
            out[y : y + 8, x : x + 8] = idctn(coef, norm="ortho")
    return out


def distill_image(image: np.ndarray, table) -> np.ndarray:
    """One (H, W, 3) uint8 RGB image through the per-block quantization round trip -> (H, W, 3) uint8."""
    table = np.asarray(table, dtype=np.float64).reshape(8, 8)
    h, w = image.shape[:2]
    ycc = image.astype(np.float64) @ _RGB_TO_YCC.T
    ycc[..., 1:] += 128.0
    ycc = np.clip(np.rint(ycc), 0, 255)  # 8-bit Y, Cb, Cr samples
    padded = np.pad(ycc - 128.0, ((0, -h % 8), (0, -w % 8), (0, 0)), mode="edge")
    for c in range(3):
        padded[..., c] = _quantize_blocks(np.ascontiguousarray(padded[..., c]), table)
    ycc = np.clip(np.rint(padded[:h, :w] + 128.0), 0, 255)  # decoded 8-bit samples
    ycc[..., 1:] -= 128.0
    rgb = ycc @ _YCC_TO_RGB.T
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def distill_blocks(images: np.ndarray, table) -> np.ndarray:
    """One image (H, W, 3) or a batch (N, H, W, 3) of uint8 RGB images, looped image by image."""
    if images.ndim == 3:
        return distill_image(images, table)
    return np.stack([distill_image(x, table) for x in images])
