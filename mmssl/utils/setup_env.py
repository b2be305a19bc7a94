import datetime

from mmengine.registry import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmssl module that registers something and, if asked, make ``mmssl``
    the current default scope, so that unprefixed ``type=`` names resolve through
    mmssl's registries (then mmpretrain's, then mmengine's).
    """
    import mmssl.datasets  # noqa: F401
    import mmssl.engine  # noqa: F401
    import mmssl.evaluation  # noqa: F401
    import mmssl.models  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('mmssl'):
        DefaultScope.get_instance('mmssl', scope_name='mmssl')
    elif current.scope_name != 'mmssl':
        # An instance name must be new: make one for this switch back to mmssl.
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S%f')
        DefaultScope.get_instance(f'mmssl-{stamp}', scope_name='mmssl')
