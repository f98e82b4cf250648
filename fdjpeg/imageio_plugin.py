"""fdjpeg as an imageio v3 plugin, registered as "fdjpeg" when fdjpeg is imported.

    import fdjpeg, imageio.v3 as iio

    img = iio.imread("photo.jpg", plugin="fdjpeg")               # exactly libjpeg-turbo's pixels
    iio.imwrite("out.jpg", img, plugin="fdjpeg", tables=fdjpeg.tables.preset("paper"))
    iio.imwrite("out.jpg", img, plugin="fdjpeg", quality=90, subsampling="4:4:4")
    iio.improps("out.jpg", plugin="fdjpeg").shape                # header only, no decode
    iio.immeta("out.jpg", plugin="fdjpeg")["quantization_tables"]

``read`` takes ``mode`` (None, "RGB" or "L", as ``fdjpeg.decode``); ``write`` takes every keyword of
``fdjpeg.encode`` (tables, quality, subsampling, optimize, restart_interval, restart_rows, comment,
exif, icc_profile, profile, mjpeg, progressive). A JPEG holds one image: ``index=...`` reads it as a batch of one,
and writing a batch of more than one image is refused. ``metadata`` describes the header (size,
sampling, tables, restart interval, EXIF/ICC/comment bytes) without decoding any pixels.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
from imageio.core.request import URI_BYTES, InitializationError, IOMode, Request
from imageio.core.v3_plugin_api import ImageProperties, PluginV3

JPEG_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif", ".jif")


class FdjpegPlugin(PluginV3):
    """Read and write baseline/progressive JPEG files with fdjpeg (see the module docstring)."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self._data: bytes | None = None
        if request.mode.io_mode == IOMode.read:
            if request.firstbytes[:2] != b"\xff\xd8":
                raise InitializationError(f"fdjpeg can only read JPEG files; {request.raw_uri!r} does not start with SOI")
        else:
            ext = request.extension or request.format_hint
            if ext is not None and ext.lower() not in JPEG_EXTENSIONS:
                raise InitializationError(f"fdjpeg writes JPEG files only, not {ext!r}")

    # -- reading -----------------------------------------------------------------------------------

    def _bytes(self) -> bytes:
        if self._data is None:
            self._data = self.request.get_file().read()
        return self._data

    def _check_index(self, index) -> None:
        if index not in (None, 0, Ellipsis):
            raise IndexError(f"a JPEG file holds one image; index {index!r} does not exist")

    def read(self, *, index=None, mode: str | None = None) -> np.ndarray:
        """Decode the image: uint8 (H, W) grayscale, (H, W, 3) RGB or (H, W, 4) CMYK (or ``mode``);
        ``index=...`` adds a batch axis of length 1."""
        from .decoder import decode

        self._check_index(index)
        image = decode(self._bytes(), mode=mode)
        return image[None] if index is Ellipsis else image

    def iter(self) -> Iterator[np.ndarray]:
        yield self.read()

    def properties(self, index=None) -> ImageProperties:
        """Shape and dtype from the header alone (no decoding)."""
        from .check import walk

        self._check_index(index)
        s = walk(self._bytes())
        if s.width is None or not s.components:
            raise ValueError("no frame header: cannot tell the image size")
        n = len(s.components)
        shape = (s.height, s.width) if n == 1 else (s.height, s.width, 4 if n == 4 else 3)
        if index is Ellipsis:
            return ImageProperties(shape=(1, *shape), dtype=np.dtype(np.uint8), n_images=1, is_batch=True)
        return ImageProperties(shape=shape, dtype=np.dtype(np.uint8))

    def metadata(self, index=None, exclude_applied: bool = True) -> dict[str, Any]:
        """The header: size, components and sampling, quantization tables (8x8, natural order),
        restart interval, progressive flag, JFIF fields, EXIF, ICC profile and comments."""
        from .check import walk
        from .markers import SOF_PROCESS
        from .zigzag import from_zigzag

        self._check_index(index)
        s = walk(self._bytes())
        meta: dict[str, Any] = {
            "width": s.width,
            "height": s.height,
            "precision": s.precision,
            "process": SOF_PROCESS.get(s.sof),
            "progressive": s.sof in (0xC2, 0xC6, 0xCA, 0xCE),
            "components": [c[0] for c in s.components],
            "sampling": [(c[1], c[2]) for c in s.components],
            "subsampling": s.subsampling(),
            "quantization_tables": [from_zigzag(np.array(s.qtables[c[3]][1], dtype=np.uint16))
                                    if c[3] in s.qtables else None for c in s.components],
            "restart_interval": s.restart_interval,
        }
        icc_chunks = []
        for _, n, p in s.app:
            if n == 0 and p[:5] == b"JFIF\x00" and len(p) >= 12 and "jfif_version" not in meta:
                meta["jfif_version"] = (p[5], p[6])
                meta["jfif_density"] = ((p[8] << 8) | p[9], (p[10] << 8) | p[11])
                meta["jfif_unit"] = p[7]
            elif n == 1 and p[:6] == b"Exif\x00\x00" and "exif" not in meta:
                meta["exif"] = bytes(p)  # identifier included, as Pillow's info["exif"]
            elif n == 2 and p[:12] == b"ICC_PROFILE\x00" and len(p) >= 14:
                icc_chunks.append((p[12], bytes(p[14:])))
            elif n == 14 and p[:5] == b"Adobe" and len(p) >= 12:
                meta["adobe_transform"] = p[11]
        if icc_chunks:
            meta["icc_profile"] = b"".join(chunk for _, chunk in sorted(icc_chunks, key=lambda c: c[0]))
        if s.comments:
            meta["comment"] = bytes(s.comments[0][1])  # as Pillow's info["comment"]
            meta["comments"] = [bytes(p) for _, p in s.comments]
        return meta

    # -- writing -----------------------------------------------------------------------------------

    def write(self, ndimage, *, is_batch: bool | None = None, **encode_options) -> bytes | None:
        """Encode one image with ``fdjpeg.encode(ndimage, **encode_options)``; returns the bytes when
        the target is ``"<bytes>"``. A list or batch must hold exactly one image."""
        from .encoder import encode

        if isinstance(ndimage, (list, tuple)):
            if len(ndimage) != 1:
                raise ValueError(f"a JPEG file holds one image; got a list of {len(ndimage)}")
            ndimage = ndimage[0]
        arr = np.asarray(ndimage)
        if is_batch or (is_batch is None and arr.ndim == 4):
            if arr.shape[0] != 1:
                raise ValueError(f"a JPEG file holds one image; got a batch of {arr.shape[0]}")
            arr = arr[0]
        data = encode(arr, **encode_options)
        file = self.request.get_file()
        file.write(data)
        return data if self.request._uri_type == URI_BYTES else None

    def close(self) -> None:
        self._request.finish()
