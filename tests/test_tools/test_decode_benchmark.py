"""tools/benchmark/decode.py: a CPU smoke run, and its data errors."""
import re

import pytest

from tools.benchmark.decode import main as decode_main


def test_cpu_rows(capsys):
    rows = decode_main(['--make-data', '4', '--batch', '6', '--repeats', '1',
                        '--device', 'cpu'])
    assert list(rows) == ['OpenCV imdecode, per image, 1 CPU thread',
                          'torchvision decode_jpeg, per image, 1 CPU thread']
    assert all(rate > 0 for rate in rows.values())
    out = capsys.readouterr().out
    assert out.startswith('6 JPEG files (4 distinct,')
    assert out.count('\n| ') == 3  # header + two rows


def test_a_folder_without_jpeg_is_refused(tmp_path):
    (tmp_path / 'a.png').write_bytes(b'not really a png')
    with pytest.raises(SystemExit, match=re.escape(f"{str(tmp_path)!r} holds no JPEG file")):
        decode_main(['--data', str(tmp_path), '--device', 'cpu'])
