"""Feature distillation (spec/feature-distillation.md), above the encoder and the decoder: table design,
the pixel round trip, ``distill``/``requantize`` and the placements the torch/ART integrations use."""
