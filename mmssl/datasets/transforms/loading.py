from typing import Optional

from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile

from mmssl.registry import TRANSFORMS


class ImageDecodeError(ValueError):
    """An image file exists but its content cannot be decoded."""


@TRANSFORMS.register_module()
class LoadImageFromFile(MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments) whose failures name the file.

    mmcv re-raises the decoder's own error, which for an empty file is an OpenCV
    assertion that does not say which file, and checks for an undecodable file with an
    ``assert``. Registered under mmcv's name in the ``mmssl`` scope, so every mmssl
    config, and every mmpretrain base it inherits, decodes with this one.

    Raises:
        FileNotFoundError: ``image file not found: <path>``.
        ImageDecodeError: ``cannot decode image file <path>: <reason>``.
    """

    def transform(self, results: dict) -> Optional[dict]:
        path = results['img_path']
        try:
            return super().transform(results)
        except FileNotFoundError as err:
            raise FileNotFoundError(f'image file not found: {path}') from err
        except Exception as err:
            raise ImageDecodeError(f'cannot decode image file {path}: {err}') from err
