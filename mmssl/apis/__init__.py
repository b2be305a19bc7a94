from .runner import add_runner_args, build_runner, load_config, parse_runner_args

__all__ = ['add_runner_args', 'build_runner', 'load_config', 'parse_runner_args']
