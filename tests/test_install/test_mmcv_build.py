"""The one upstream breakage mmssl patches: mmcv's C++ standard flags vs torch's headers."""
import os.path as osp
import subprocess

import pytest
import torch

from tests._helpers import REPO_ROOT

BUILD_SCRIPT = osp.join(REPO_ROOT, 'tools/install/build_mmcv_wheel.sh')
TORCH_INCLUDE = osp.join(osp.dirname(torch.__file__), 'include')

# The lines of onedl-mmcv 2.3.6's setup.py that set the C++ standard (pytorch, parrots,
# MSVC and nvcc spellings).
MMCV_SETUP_LINES = """\
            'nvcc': [cuda_args, '-std=c++14'] if cuda_args else ['-std=c++14'],
            'cxx': ['-std=c++14'],
                extra_compile_args['cxx'] = ['-std=c++17']
                extra_compile_args['cxx'] = ['/std:c++17']
            extra_compile_args['cxx'] = ['-Wall', '-std=c++17']
                extra_compile_args['nvcc'] += ['-std=c++17']
        # c++14 features, the argument ['std=c++14'] must be added here.
"""


def _compile_aten(tmp_path, std):
    src = tmp_path / 'uses_aten.cpp'
    src.write_text('#include <ATen/ATen.h>\nint main() { return 0; }\n')
    return subprocess.run(['g++', f'-std={std}', '-fsyntax-only', '-I', TORCH_INCLUDE, str(src)],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_torch_headers_need_cxx20_which_mmcv_setup_does_not_ask_for(tmp_path):
    """The breakage: mmcv's -std=c++17 cannot compile against this torch; C++20 can."""
    old = _compile_aten(tmp_path, 'c++17')
    assert old.returncode != 0 and 'C++20 or later compatible compiler' in old.stderr
    assert _compile_aten(tmp_path, 'c++20').returncode == 0


def test_patch_rewrites_every_standard_flag_and_nothing_else(tmp_path):
    setup_py = tmp_path / 'setup.py'
    setup_py.write_text(MMCV_SETUP_LINES)
    subprocess.run(['bash', BUILD_SCRIPT, '--patch', str(setup_py)], check=True)
    patched = setup_py.read_text()
    assert '-std=c++14' not in patched and '-std=c++17' not in patched
    assert '/std:c++17' not in patched
    assert patched.count('-std=c++20') == 6 and patched.count('/std:c++20') == 1
    assert "['std=c++14'] must be added here" in patched  # a comment, left as it is


def test_installed_mmcv_has_its_compiled_ops():
    from mmcv.ops import nms, roi_align
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], dtype=torch.float)
    scores = torch.tensor([0.9, 0.8, 0.7])
    _, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    feat = torch.arange(16, dtype=torch.float).view(1, 1, 4, 4)
    rois = torch.tensor([[0, 0, 0, 4, 4]], dtype=torch.float)
    # output 1 x 1, spatial scale 1, 2 x 2 samples per bin, average, not aligned
    pooled = roi_align(feat, rois, (1, 1), 1.0, 2, 'avg', False)
    # 2 x 2 samples at (1, 1), (1, 3), (3, 1), (3, 3): pixels 5, 7, 13, 15
    assert pooled.item() == pytest.approx(10.0)
