"""A plugin project's ``custom_imports`` load whatever the working directory."""
import sys

import pytest

from mmssl.apis.runner import load_config


def _plugin(root, package: str) -> str:
    """``root/<package>/`` registering nothing, and ``root/configs/cfg.py`` importing it."""
    (root / package).mkdir(parents=True)
    (root / package / '__init__.py').write_text('LOADED = True\n')
    (root / 'configs').mkdir()
    config = root / 'configs' / 'cfg.py'
    config.write_text(f"custom_imports = dict(imports=['{package}'], "
                      f"allow_failed_imports=False)\n")
    return str(config)


@pytest.fixture
def clean_imports(monkeypatch):
    monkeypatch.setattr(sys, 'path', list(sys.path))
    monkeypatch.setattr(sys, 'modules', dict(sys.modules))


def test_plugin_package_beside_its_configs_loads_from_another_cwd(tmp_path, monkeypatch,
                                                                  clean_imports):
    config = _plugin(tmp_path / 'plugin', 'mmssl_test_plugin_a')
    (tmp_path / 'elsewhere').mkdir()
    monkeypatch.chdir(tmp_path / 'elsewhere')
    assert 'mmssl_test_plugin_a' not in sys.modules
    load_config(config)
    assert sys.modules['mmssl_test_plugin_a'].LOADED
    assert sys.path[0] == str(tmp_path / 'plugin')


def test_a_package_found_nowhere_fails_naming_the_config(tmp_path, clean_imports):
    config = _plugin(tmp_path / 'plugin', 'mmssl_test_plugin_b')
    (tmp_path / 'plugin' / 'mmssl_test_plugin_b' / '__init__.py').unlink()
    with pytest.raises(ImportError, match=r"No module named 'mmssl_test_plugin_b'") as error:
        load_config(config)
    assert config in str(error.value)
