"""Bad data: odd but valid formats decode to 3-channel uint8, broken files fail fast naming
the file (or are skipped and listed), decompression bombs are refused from the header, and
no random or mutated bytes crash the decoder with anything but the documented errors."""
import os

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mmssl.datasets.transforms import ImageDecodeError, LoadImageFromFile
from mmssl.datasets.transforms.loading import SKIPPED_IMAGES_ENV


def _load(path, **kwargs):
    return LoadImageFromFile(**kwargs)(dict(img_path=str(path)))


def _photo() -> np.ndarray:
    """A smooth 48x64 BGR image (colour ramps)."""
    y, x = np.mgrid[0:48, 0:64]
    return np.stack([x * 4, y * 5, (x + y) * 2], -1).astype(np.uint8)


@pytest.fixture
def jpeg(tmp_path):
    path = tmp_path / 'photo.jpg'
    cv2.imwrite(str(path), _photo(), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


def test_odd_formats_decode_to_three_channel_uint8(tmp_path):
    rgb = _photo()[..., ::-1]
    files = {
        'alpha.png': lambda p: Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 7,
                                                                       np.uint8)])).save(p),
        'cmyk.jpg': lambda p: Image.fromarray(rgb).convert('CMYK').save(p, quality=95),
        'deep.png': lambda p: cv2.imwrite(p, _photo().astype(np.uint16) * 257),
        'grey.jpg': lambda p: Image.fromarray(rgb).convert('L').save(p, quality=95),
        'png-named.jpg': lambda p: Image.fromarray(rgb).save(p, format='PNG'),
    }
    for name, write in files.items():
        write(str(tmp_path / name))
        img = _load(tmp_path / name)['img']
        assert img.shape == (48, 64, 3) and img.dtype == np.uint8, name
        expected = cv2.cvtColor(cv2.cvtColor(_photo(), cv2.COLOR_BGR2GRAY),
                                cv2.COLOR_GRAY2BGR) if name == 'grey.jpg' else _photo()
        assert np.abs(img.astype(int) - expected).mean() < 4, name


def test_broken_files_fail_fast_naming_the_file(tmp_path, jpeg):
    truncated = tmp_path / 'truncated.jpg'
    truncated.write_bytes(jpeg.read_bytes()[:200])
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    for path in (truncated, empty):
        with pytest.raises(ImageDecodeError, match=f'cannot decode image file {path}'):
            _load(path)
    with pytest.raises(FileNotFoundError, match='image file not found: .*missing.jpg'):
        _load(tmp_path / 'missing.jpg')


def test_skip_policy_drops_the_sample_and_lists_the_file(tmp_path, monkeypatch):
    log = tmp_path / 'skipped.txt'
    monkeypatch.setenv(SKIPPED_IMAGES_ENV, str(log))
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    assert _load(empty, on_error='skip') is None
    assert _load(tmp_path / 'missing.jpg', on_error='skip') is None
    lines = log.read_text().splitlines()
    assert [line.split('\t')[0] for line in lines] == [str(empty), str(tmp_path / 'missing.jpg')]
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip', got 'ignore'"):
        LoadImageFromFile(on_error='ignore')


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path):
    bomb = tmp_path / 'bomb.png'
    Image.new('1', (20000, 20000)).save(bomb)  # 400 Mpx, a few hundred kB on disk
    assert os.path.getsize(bomb) < 2_000_000
    with pytest.raises(ImageDecodeError, match=r'20000x20000 pixels exceed max_pixels'):
        _load(bomb)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_bytes_decode_or_raise_the_documented_error(tmp_path, jpeg, data):
    original = jpeg.read_bytes()
    kind = data.draw(st.sampled_from(['random', 'flip', 'truncate', 'splice']))
    if kind == 'random':
        content = data.draw(st.binary(max_size=2048))
    elif kind == 'flip':
        positions = data.draw(st.lists(st.integers(0, len(original) - 1), max_size=20))
        content = bytearray(original)
        for i in positions:
            content[i] ^= data.draw(st.integers(1, 255))
        content = bytes(content)
    elif kind == 'truncate':
        content = original[:data.draw(st.integers(0, len(original)))]
    else:
        start = data.draw(st.integers(0, len(original)))
        content = original[:start] + data.draw(st.binary(max_size=256)) + original[start:]
    path = tmp_path / 'fuzz.jpg'
    path.write_bytes(content)
    try:
        img = _load(path)['img']
    except ImageDecodeError as err:
        assert str(path) in str(err)
    else:
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
