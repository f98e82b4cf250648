"""Feature distillation as a ``torch.nn.Module`` (optional extra: ``pip install "fdjpeg[torch]"``).

    import torch, fdjpeg.torch
    defended = torch.nn.Sequential(fdjpeg.torch.FeatureDistillation("robust"), classifier)
    logits = defended(x)                  # x: float NCHW in [0, 1], C = 1 or 3

Forward: the exact fdjpeg codec transform (``fdjpeg.distill``, or the one-pass decoder-side defense,
see ``fdjpeg.fd.pixel_defense``), computed with NumPy/Numba on the CPU and returned on the input's device
and dtype. Inputs are rounded to 8 bits (``round(255 x)``) as any JPEG encoder does; input outside
[0, 1] (e.g. mean/std-normalized) raises ValueError, as ``fdjpeg.art`` and ``fdjpeg.distill`` do: put
the normalization after this layer.

Backward: straight-through (the identity), the BPDA estimate of Athalye et al. (2018) for a
non-differentiable preprocessor -- so ``loss.backward()`` through this module gives the gradient an
adaptive (BPDA) attacker uses. ``fdjpeg`` itself never imports this module or torch.
"""

from __future__ import annotations

import numpy as np
import torch

from .dataset.batch import decode_batch
from .decoder.color import convert_mode
from .decoder.decompress import decode
from .fd.distill import distill
from .fd.pixel_defense import PLACEMENTS, apply, resolve_tables

__all__ = ["FeatureDistillation", "JPEGDistill", "StraightThroughFD", "feature_distillation"]


class StraightThroughFD(torch.autograd.Function):
    """y = FD(x) in the forward pass, dL/dx = dL/dy in the backward pass (BPDA with the identity)."""

    @staticmethod
    def forward(ctx, x, tables, placement, subsampling):  # noqa: D401 - autograd signature
        arr = x.detach().to("cpu", torch.float32).numpy()
        out = apply(arr, tables, placement=placement, subsampling=subsampling, channels_first=True)
        return torch.from_numpy(np.ascontiguousarray(out)).to(device=x.device, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None, None, None


def feature_distillation(x: torch.Tensor, tables="robust", *, placement: str = "distill", subsampling: str = "4:4:4"):
    """Functional form of ``FeatureDistillation``: x float (N, C, H, W) or (C, H, W) in [0, 1]."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a float tensor in [0, 1], got {x.dtype}")
    squeeze = x.dim() == 3
    if squeeze:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"x must be (N, C, H, W) or (C, H, W) with C in (1, 3), got {tuple(x.shape)}")
    tabs = resolve_tables(tables)
    y = StraightThroughFD.apply(x, tabs, placement, subsampling)
    return y.squeeze(0) if squeeze else y


class FeatureDistillation(torch.nn.Module):
    """Feature distillation preprocessing layer: NCHW float in [0, 1] -> the same, with an identity backward.

    tables: a preset name ("robust", the recommended default; "released", "paper"), "q<N>" for the standard quality-N tables, a JSON
        tables file, one 8x8 table or (luma, chroma).
    placement: "distill" (decode(encode(x, tables)); the default) or "one-pass" (the decoder-side
        defense applied to x arriving as a quality-100 4:4:4 JPEG).
    subsampling: chroma subsampling of the "distill" placement ("4:4:4" default, as the paper's
        per-channel tables).
    """

    def __init__(self, tables="robust", *, placement: str = "distill", subsampling: str = "4:4:4"):
        super().__init__()
        if placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, got {placement!r}")
        self.tables = resolve_tables(tables)
        self.placement = placement
        self.subsampling = subsampling

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return feature_distillation(x, self.tables, placement=self.placement, subsampling=self.subsampling)

    def extra_repr(self) -> str:
        return f"placement={self.placement!r}, subsampling={self.subsampling!r}, tables={len(self.tables)}"


class JPEGDistill:
    """torchvision-style transform for data loading: a JPEG -> the defended image as a CHW tensor.

    ``transform(item)``: ``item`` a JPEG (bytes, a path or a binary file object) is decoded with the
    one-pass defense in the coefficient domain, ``fdjpeg.decode(item, defense=tables)`` (the same
    pixels as decoding ``fdjpeg.requantize(item, tables)``); ``item`` an (H, W) or (H, W, 3) uint8
    array (or a PIL image) is distilled in the pixel domain, ``fdjpeg.distill(item, tables,
    subsampling=...)``. ``transform.batch(items)`` does a list of JPEGs with ``fdjpeg.decode_batch``
    (one compiled call for the batch) and returns (N, C, H, W) when the sizes agree, else a list.

    tables: as ``FeatureDistillation`` (default "robust"). mode: "RGB" (default; grayscale files give
    3 channels), "L" (1 channel) or None (the file's own channels). dtype: ``torch.uint8`` (default)
    or a float dtype, then scaled to [0, 1]. Safe in ``DataLoader`` workers (forked or spawned): it
    holds only NumPy tables.
    """

    def __init__(self, tables="robust", *, mode: str | None = "RGB", dtype=torch.uint8, subsampling: str = "4:4:4"):
        if mode not in (None, "RGB", "L"):
            raise ValueError(f"mode must be 'RGB', 'L' or None, got {mode!r}")
        if not isinstance(dtype, torch.dtype) or not (dtype == torch.uint8 or dtype.is_floating_point):
            raise TypeError(f"dtype must be torch.uint8 or a float dtype, got {dtype!r}")
        tabs = resolve_tables(tables)
        self.tables = tabs[0] if len(tabs) == 1 else tuple(tabs)
        self.mode = mode
        self.dtype = dtype
        self.subsampling = subsampling

    def _tensor(self, pixels: np.ndarray) -> torch.Tensor:
        chw = torch.from_numpy(np.ascontiguousarray(pixels if pixels.ndim == 3 else pixels[:, :, None]))
        chw = chw.permute(2, 0, 1).contiguous()
        return chw if self.dtype == torch.uint8 else chw.to(self.dtype) / 255

    def _pixels(self, item) -> np.ndarray:
        if isinstance(item, np.ndarray) or hasattr(item, "getbands"):  # an array or a PIL image
            img = np.asarray(item)
            if img.dtype != np.uint8 or img.ndim not in (2, 3):
                raise TypeError(f"arrays must be uint8 (H, W) or (H, W, C), got {img.dtype} {img.shape}")
            if img.ndim == 3 and img.shape[2] == 1:
                img = img[:, :, 0]
            out = distill(img, self.tables, subsampling=self.subsampling)
            return convert_mode(out, self.mode)
        return decode(item, mode=self.mode, defense=self.tables)

    def __call__(self, item) -> torch.Tensor:
        return self._tensor(self._pixels(item))

    def batch(self, items, *, errors: str = "raise"):
        """A list of JPEGs -> (N, C, H, W) (sizes agree) or a list of CHW tensors (errors="collect":
        a failed item's entry is its ``fdjpeg.JPEGError``)."""
        decoded = decode_batch(items, mode=self.mode, defense=self.tables, errors=errors, stack="auto")
        if isinstance(decoded, np.ndarray):
            nhwc = torch.from_numpy(decoded if decoded.ndim == 4 else decoded[..., None])
            nchw = nhwc.permute(0, 3, 1, 2).contiguous()
            return nchw if self.dtype == torch.uint8 else nchw.to(self.dtype) / 255
        return [x if isinstance(x, Exception) else self._tensor(x) for x in decoded]

    def __repr__(self) -> str:
        return f"JPEGDistill(mode={self.mode!r}, dtype={self.dtype}, subsampling={self.subsampling!r})"
