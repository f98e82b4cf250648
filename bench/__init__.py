"""fdjpeg's benchmark suite: speed ratios against peers measured in the same run, peak memory, first-call time.

Run ``python -m bench`` (or ``python -m bench --quick``); see ``bench/README.md``.
"""
