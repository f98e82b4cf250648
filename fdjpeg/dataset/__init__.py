"""Dataset-scale feature distillation: batch calls over many small images (``batch``), WebDataset tar
shards (``shards``) and Dask over many machines (``cluster``). Import the submodules explicitly
(``from fdjpeg.dataset import shards``); the batch calls are also ``fdjpeg.decode_batch`` etc."""
