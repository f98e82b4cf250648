"""Feature distillation as a preprocessor for IBM's Adversarial Robustness Toolbox (optional extra:
``pip install "fdjpeg[art]"``).

    from art.estimators.classification import PyTorchClassifier
    from fdjpeg.art import FeatureDistillation

    fd = FeatureDistillation("robust", clip_values=(0.0, 1.0), channels_first=True)
    classifier = PyTorchClassifier(model, loss, input_shape, nb_classes, clip_values=(0.0, 1.0),
                                   preprocessing_defences=[fd])

It follows the conventions of ART's own ``JpegCompression``: ``clip_values`` (min 0, max 1 or 255),
``channels_first``, ``apply_fit`` / ``apply_predict``, ``__call__(x, y) -> (x', y)`` on NCHW/NHWC
batches, results in ``art.config.ART_NUMPY_DTYPE``. The gradient estimate is the identity (BPDA, the
Preprocessor default, made explicit here), so ART's white-box attacks through a classifier carrying
this preprocessor are the adaptive BPDA attack. ``fdjpeg`` itself never imports this module or ART.
"""

from __future__ import annotations

import numpy as np
from art.config import ART_NUMPY_DTYPE
from art.defences.preprocessor.preprocessor import Preprocessor

from .fd.pixel_defense import PLACEMENTS, apply, resolve_tables

__all__ = ["FeatureDistillation"]


class FeatureDistillation(Preprocessor):
    """Feature distillation (Liu et al., CVPR 2019) with fdjpeg's exact codec arithmetic.

    :param tables: a preset name ("robust", the recommended default; "released", "paper"), "q<N>" (standard quality-N tables), a JSON
           tables file path, one 8x8 table or (luma, chroma).
    :param clip_values: (0, 1) or (0, 255): the data range of ``x``.
    :param channels_first: NCHW (True) or NHWC (False) input.
    :param placement: "distill" (decode(encode(x, tables)), default) or "one-pass" (the decoder-side
           defense for x arriving as a quality-100 4:4:4 JPEG).
    :param subsampling: chroma subsampling of the "distill" placement.
    :param apply_fit: apply when fitting (default False: the paper's classifier is trained on benign images).
    :param apply_predict: apply when predicting (default True).
    """

    params = ["tables", "placement", "subsampling", "channels_first", "clip_values"]

    def __init__(
        self,
        tables="robust",
        *,
        clip_values=(0.0, 1.0),
        channels_first: bool = False,
        placement: str = "distill",
        subsampling: str = "4:4:4",
        apply_fit: bool = False,
        apply_predict: bool = True,
    ):
        super().__init__(is_fitted=True, apply_fit=apply_fit, apply_predict=apply_predict)
        self.tables = resolve_tables(tables)
        self.clip_values = clip_values
        self.channels_first = channels_first
        self.placement = placement
        self.subsampling = subsampling
        self._check_params()

    def __call__(self, x: np.ndarray, y=None):
        """Distill a batch ``x`` (NCHW or NHWC, C = 1 or 3, values in ``clip_values``); labels pass through."""
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"feature distillation needs a batch of images (4 dimensions), got shape {x.shape}")
        if x.min() < 0.0:
            raise ValueError("negative values in x: feature distillation needs unnormalized input in clip_values")
        scale = float(self.clip_values[1])
        x01 = x.astype(np.float32) / np.float32(scale) if scale != 1.0 else x.astype(np.float32)
        if x01.max() > 1.0 + 0.5 / 255:  # never clip silently (fdjpeg.distill and fdjpeg.torch refuse it too)
            raise ValueError(f"values above clip_values' max {self.clip_values[1]} in x (max {x.max():g})")
        out = apply(
            x01, self.tables, placement=self.placement, subsampling=self.subsampling, channels_first=self.channels_first
        )
        if scale != 1.0:
            out = out * np.float32(scale)
        return out.astype(ART_NUMPY_DTYPE), y

    def estimate_gradient(self, x: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """BPDA: the defense is treated as the identity in the backward pass."""
        return grad

    def _check_params(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, got {self.placement!r}")
        if len(self.clip_values) != 2:
            raise ValueError("'clip_values' should be a tuple of 2 floats: the allowed data range")
        if self.clip_values[0] != 0:
            raise ValueError("'clip_values' min value must be 0")
        if self.clip_values[1] not in (1, 1.0, 255, 255.0):
            raise ValueError("'clip_values' max value must be either 1 or 255")
        if not isinstance(self.channels_first, bool):
            raise ValueError("'channels_first' must be a bool")
