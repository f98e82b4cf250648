"""Dataset-scale feature distillation: batch calls over many small images (``batch``; also
``fdjpeg.decode_batch`` etc.), WebDataset tar shards (``shards``) and Dask over many machines (``cluster``,
the dask extra). Import the submodules explicitly (``from fdjpeg.dataset import shards``); this package
imports none of them."""
