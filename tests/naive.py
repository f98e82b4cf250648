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


def huffman_codes(spec) -> dict[int, str]:
    """symbol -> code as a bit string, from a table's 16 counts and its symbols (T.81 Annex C)."""
    codes, code, p = {}, 0, 0
    for length in range(1, 17):
        for _ in range(spec.bits[length - 1]):
            codes[spec.values[p]] = format(code, f"0{length}b")
            code += 1
            p += 1
        code <<= 1
    return codes


def huffman_scan(blocks, comp_in_mcu, dc_tbl, ac_tbl, dc_specs, ac_specs, restart_interval) -> bytes:
    """A sequential scan's entropy-coded data written bit by bit as T.81 F.1.2 describes it: blocks are
    in transmission order (rows of 64, natural order), 1-bit padding and RSTn at every restart, 0x00
    after every 0xFF. A slow reference for encoder/entropy.py."""
    from fdjpeg.base.zigzag import ZIGZAG

    dc_codes = [huffman_codes(s) if s is not None else None for s in dc_specs]
    ac_codes = [huffman_codes(s) if s is not None else None for s in ac_specs]
    out, bits = bytearray(), []

    def flush(pad):
        if pad and len(bits) % 8:
            bits.extend("1" * (8 - len(bits) % 8))
        while len(bits) >= 8:
            byte = int("".join(bits[:8]), 2)
            del bits[:8]
            out.append(byte)
            if byte == 0xFF:
                out.append(0)

    def value_bits(v, size):
        return format(v if v >= 0 else v + (1 << size) - 1, f"0{size}b") if size else ""

    bpm = len(comp_in_mcu)
    pred = [0] * 4
    for m in range(len(blocks) // bpm):
        if restart_interval and m and m % restart_interval == 0:
            flush(True)
            out.extend((0xFF, 0xD0 + (m // restart_interval - 1) % 8))
            pred = [0] * 4
        for i, c in enumerate(comp_in_mcu):
            zz = [int(blocks[m * bpm + i][ZIGZAG[k]]) for k in range(64)]
            diff, pred[c] = zz[0] - pred[c], zz[0]
            size = abs(diff).bit_length()
            bits.extend(dc_codes[dc_tbl[c]][size] + value_bits(diff, size))
            run = 0
            for k in range(1, 64):
                if zz[k] == 0:
                    run += 1
                    continue
                while run > 15:
                    bits.extend(ac_codes[ac_tbl[c]][0xF0])
                    run -= 16
                size = abs(zz[k]).bit_length()
                bits.extend(ac_codes[ac_tbl[c]][run << 4 | size] + value_bits(zz[k], size))
                run = 0
            if run:
                bits.extend(ac_codes[ac_tbl[c]][0x00])
            flush(False)
    flush(True)
    return bytes(out)
