"""The progress bar of the tools that run for more than a few seconds (tqdm, on stderr)."""
import sys
from typing import Iterable, Optional, TypeVar

from mmengine.dist import is_main_process
from tqdm import tqdm

T = TypeVar('T')


def progress_bar(iterable: Iterable[T], desc: str, total: Optional[int] = None,
                 unit: str = 'it', enabled: bool = True) -> 'tqdm[T]':
    """``iterable`` with a tqdm bar on stderr, drawn only by the main process.

    ``total`` defaults to ``len(iterable)``; ``enabled=False`` draws nothing. Lines meant
    for the user while the bar runs go through ``tqdm.write``. Off a terminal (a log
    file) the bar is redrawn at most every 10 s.
    """
    return tqdm(iterable, desc=desc, total=total, unit=unit, file=sys.stderr,
                disable=not (enabled and is_main_process()), dynamic_ncols=True,
                mininterval=0.1 if sys.stderr.isatty() else 10.0)
