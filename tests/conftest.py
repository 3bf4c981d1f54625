import pytest


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def params_marked_slow(values, ids, slow_ids):
    """``pytest.param(value, id=...)`` for each value, marked ``slow`` where its id is in ``slow_ids``."""
    return [pytest.param(v, id=i, marks=[pytest.mark.slow] if i in slow_ids else []) for v, i in zip(values, ids)]
