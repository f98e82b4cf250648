"""Dataset-scale feature distillation: WebDataset tar shards (``shards``), batches of small images and
Dask over many machines. Import the submodules explicitly (``from fdjpeg.dataset import shards``)."""
