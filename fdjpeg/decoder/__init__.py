"""The decompressor, one module per stage as libjpeg's jd* files: parser (jdmarker), entropy (jdhuff),
progressive (jdphuff), reader (jdinput, ``read_coefficients``), idct_islow/idct_lanes/idct (jidctint,
jddctmgr), smoothing (jdcoefct), upsample (jdsample), color (jdcolor), compose (jdmerge) and
decompress (``decode``). Imports only from base/."""
