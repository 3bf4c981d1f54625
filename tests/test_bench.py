"""`minimax bench` at toy size: its JSON keys and the FLOP count it divides by (no timing asserts)."""
import importlib.util
import json

import jax
import pytest

from minimax import cli
from minimax.data import mnist32
from minimax.experiments.bench import flops_per_step


def dense_forward_flops(batch, sizes):
    return sum(2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def test_xla_flop_count_of_an_eg_step_is_bounded_by_the_matmul_work():
    data, _ = mnist32()
    latents = jax.random.normal(jax.random.PRNGKey(0), (32, 16))
    width = 64
    # One field evaluation runs at least G forward on 32 codes and the critic forward on 64 samples;
    # EG evaluates the field twice, and backward passes cost about twice the forward pass.
    forward = dense_forward_flops(32, [16, width, width, 784]) + dense_forward_flops(64, [784, width, width, 1])
    flops = flops_per_step(data, latents, width)
    assert 2 * forward <= flops <= 2 * 6 * forward


@pytest.mark.slow  # ~60 s on the 2-core CPU (compilation of the timed programs); runs with --runslow
def test_bench_writes_the_required_keys(tmp_path):
    code = cli.main(["bench", "--seeds", "2", "--steps", "2", "--torch-steps", "1", "--repeats", "1",
                     "--width", "8", "--strategies", "vmap", "--out", str(tmp_path)])
    assert code == 0
    doc = json.loads((tmp_path / "bench.json").read_text())
    for key in ("sweep_over_loop", "sweep_over_torch", "flops_fraction_of_matmul_peak"):
        assert key in doc and all(key in r for r in doc["rows"])
    assert doc["sweep_over_loop"] > 0 and doc["flops_fraction_of_matmul_peak"] > 0 and "load_average" in doc
    has_torch = importlib.util.find_spec("torch") is not None
    assert (doc["sweep_over_torch"] is None) == (not has_torch)
    assert [r["seeds"] for r in doc["rows"]] == [2]
