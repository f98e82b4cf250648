"""Layer 0, shared by both directions: Numba options, errors, limits, the byte loader and atomic writer,
fixed-point constants, zigzag order, marker codes, Huffman and quantization tables, frame geometry, the
coefficient container, the coefficient-domain requantization and the hardware profile's settings rules.
Nothing here imports from the layers above."""
