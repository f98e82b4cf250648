"""The compressor, one module per stage as libjpeg's jc* files: color (jccolor), downsample (jcsample),
fdct (jfdctint + jcdctmgr), prepare (the fused front end), entropy (jchuff), markers (jcmarker) and
compress (``encode``). Imports only from base/."""
