"""Writes that a crash cannot leave half done: temporary file, fsync, rename."""
import os
import os.path as osp


def _fsync_dir(folder: str) -> None:
    fd = os.open(folder or '.', os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_file(tmp_path: str, final_path: str) -> None:
    """Flush ``tmp_path`` to disk, then rename it to ``final_path`` (same folder).

    A reader sees either the old ``final_path`` or the complete new one, never a part.
    """
    with open(tmp_path, 'rb+') as f:
        os.fsync(f.fileno())
    os.replace(tmp_path, final_path)
    _fsync_dir(osp.dirname(final_path))


def atomic_write_text(path: str, text: str) -> None:
    """Replace the content of ``path`` by ``text`` atomically."""
    tmp_path = osp.join(osp.dirname(path), f'.{osp.basename(path)}.tmp')
    with open(tmp_path, 'w') as f:
        f.write(text)
    publish_file(tmp_path, path)
