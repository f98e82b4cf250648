"""Data-set scale: batch calls over many small images (batch.py); WebDataset shards and Dask sit beside them."""
