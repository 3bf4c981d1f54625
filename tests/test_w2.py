"""minimax.ot.w2_game: the bound is an upper bound, it reaches ~0 on 32 MNIST digits, the coupling is
carried state, runs are deterministic and vmap-invariant; and the ``minimax w2`` command."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from minimax import Players, cli, ot, train, updates
from minimax.data import mnist32, ring8
from minimax.metrics import memorization


def mlp(sizes):
    """A plain-function MLP generator (tanh hidden layers): (init(key), apply(params, z))."""
    def init(key):
        keys = jax.random.split(key, len(sizes) - 1)
        return [(jax.random.normal(k, (a, b)) / np.sqrt(a), jnp.zeros(b)) for k, a, b in zip(keys, sizes, sizes[1:])]

    def apply(params, z):
        for W, b in params[:-1]:
            z = jnp.tanh(z @ W + b)
        W, b = params[-1]
        return z @ W + b
    return init, apply


def train_w2(apply, params, data, key, *, latents, steps, record_every, rule=None, exact=True, **game_kw):
    """Trains G on ot.w2_game with train.run (Adam 1e-3 by default): (RunResult, game)."""
    game = ot.w2_game(apply, data, latents, **game_kw)
    rule = updates.simultaneous(optax.adam(1e-3)) if rule is None else rule
    run = jax.jit(lambda g, p, k: train.run(g, rule, Players(p, ()), k, steps=steps, record_every=record_every,
                                            metrics=ot.w2_metrics(game, exact=exact)))
    return run(game, params, key), game


def test_w2_regression_memorizes_32_mnist_digits():
    """Exact coupling at θ₀, then regression: the bound goes to ~0 and every digit is reproduced."""
    x, _ = mnist32()
    init, apply = mlp([32, 256, 784])
    z = jax.random.normal(jax.random.PRNGKey(1), (32, 32))
    result, _ = train_w2(apply, init(jax.random.PRNGKey(2)), x, jax.random.PRNGKey(3), latents=z, steps=800,
                         record_every=100)
    bound, exact = np.asarray(result.trajectory["w2_bound"]), np.asarray(result.trajectory["w2_exact"])
    assert bound.shape == (9,)
    assert np.all(bound >= exact * (1 - 1e-5))  # W₂² <= E_α‖x − G(z)‖² at every record
    assert bound[-1] < 1e-6 * bound[0]
    mem = memorization(apply(result.params.min, z), x)
    assert float(mem.fraction) == 1.0 and float(mem.mean_distance) < 1e-2


@pytest.mark.parametrize("coupling, pairs", [("exact", "barycentric"), ("sinkhorn", "sample")])
def test_bound_upper_bounds_exact_w2_when_recomputed(coupling, pairs):
    data = ring8().sample(jax.random.PRNGKey(0), 16)
    init, apply = mlp([4, 32, 2])
    z = jax.random.normal(jax.random.PRNGKey(1), (16, 4))
    result, _ = train_w2(apply, init(jax.random.PRNGKey(2)), data, jax.random.PRNGKey(3), latents=z, steps=60,
                         record_every=3, rule=updates.simultaneous(optax.adam(3e-2)), coupling=coupling, pairs=pairs,
                         epsilon=0.01, recompute_every=7)
    bound, exact = np.asarray(result.trajectory["w2_bound"]), np.asarray(result.trajectory["w2_exact"])
    # a Sinkhorn plan meets its marginals to 1e-3 (L1), which can cost up to 1e-3 · max C_ij
    slack = 1e-5 * exact if coupling == "exact" else 1e-3 * 4 * 4.0 ** 2
    assert np.all(bound >= exact - slack)
    assert bound[-1] < 0.2 * bound[0]


def test_the_coupling_is_recomputed_every_k_steps_as_carried_state():
    """With recompute_every = k the game state changes exactly at steps k, 2k, ... (the coupling at θ_k)."""
    data = ring8().sample(jax.random.PRNGKey(0), 8)
    init, apply = mlp([3, 16, 2])
    z = jax.random.normal(jax.random.PRNGKey(1), (8, 3))
    game = ot.w2_game(apply, data, z, recompute_every=3)
    state = train.init_state(game, optax.sgd(0.5), Players(init(jax.random.PRNGKey(2)), ()), jax.random.PRNGKey(3))
    step = jax.jit(train.make_step(game, optax.sgd(0.5)))
    changed = []
    for k in range(1, 10):
        new, _ = step(state, jax.random.PRNGKey(k))
        changed.append(not np.array_equal(new.game_state.targets, state.game_state.targets))
        state = new
    # a change needs the matching to change too; at least one recomputation must move the targets here
    assert [k for k, c in zip(range(1, 10), changed) if c] and all(k % 3 == 0 for k, c in zip(range(1, 10), changed)
                                                                   if c)


def test_minibatch_ot_with_fresh_latents():
    data = ring8().sample(jax.random.PRNGKey(0), 64)
    init, apply = mlp([4, 32, 2])
    adam = updates.simultaneous(optax.adam(3e-2))
    sampler = lambda key: jax.random.normal(key, (16, 4))
    result, _ = train_w2(apply, init(jax.random.PRNGKey(2)), data, jax.random.PRNGKey(3), latents=sampler, steps=100,
                         record_every=10, rule=adam, recompute_every=10)
    batch = np.asarray(result.state.game_state.batch)
    assert batch.shape == (16, 2) and len({tuple(r) for r in batch}) == 16  # a minibatch without replacement
    assert all(any(np.array_equal(r, d) for d in np.asarray(data)) for r in batch)
    bound = np.asarray(result.trajectory["w2_bound"])
    assert np.all(bound >= np.asarray(result.trajectory["w2_exact"]) * (1 - 1e-5))
    # fresh latents against all 64 points each recomputation: the generator moves toward the data
    # (with 16-point minibatches the bias of minibatch OT keeps W₂² near its start on this ring)
    full = lambda key: jax.random.normal(key, (64, 4))
    result, _ = train_w2(apply, init(jax.random.PRNGKey(2)), data, jax.random.PRNGKey(3), latents=full, steps=200,
                         record_every=100, rule=adam, recompute_every=10)
    z64 = jax.random.normal(jax.random.PRNGKey(9), (64, 4))
    before = ot.w2_squared(apply(init(jax.random.PRNGKey(2)), z64), data)
    after = ot.w2_squared(apply(result.params.min, z64), data)
    assert float(after) < 0.6 * float(before), (before, after)


def test_determinism_and_vmap_invariance_over_latent_sets():
    """One game per seed (its latent set a vmapped leaf) equals separate runs."""
    data = ring8().sample(jax.random.PRNGKey(0), 8)
    init, apply = mlp([3, 16, 2])
    keys = jax.random.split(jax.random.PRNGKey(5), 3)
    latents = jax.vmap(lambda k: jax.random.normal(k, (8, 3)))(keys)
    game = ot.w2_game(apply, data, latents[0], recompute_every=5, sample_init=lambda k: Players(init(k), ()))
    per_seed = game.replace(args=(jnp.broadcast_to(data, (3, 8, 2)), latents))
    rule = updates.simultaneous(optax.sgd(0.05))
    kw = dict(steps=20, record_every=10, metrics=ot.w2_metrics(game))
    batched = train.sweep(per_seed, rule, None, keys, seed_games=True, **kw)
    again = train.sweep(per_seed, rule, None, keys, seed_games=True, **kw)
    np.testing.assert_array_equal(batched.trajectory["w2_bound"], again.trajectory["w2_bound"])
    for i in range(3):
        single = train.sweep(game.replace(args=(data, latents[i])), rule, None, keys[i:i + 1], **kw)
        np.testing.assert_allclose(batched.trajectory["w2_bound"][i], single.trajectory["w2_bound"][0], rtol=1e-5)


def test_w2_game_errors():
    data = np.zeros((8, 2), np.float32)
    _, apply = mlp([3, 2])
    z = np.ones((8, 3), np.float32)
    with pytest.raises(ValueError, match="recompute_every"):
        ot.w2_game(apply, data, lambda k: jax.random.normal(k, (8, 3)))
    with pytest.raises(ValueError, match="as many data points as latents"):
        ot.w2_game(apply, data, z[:6])
    with pytest.raises(ValueError, match="coupling"):
        ot.w2_game(apply, data, z, coupling="greedy")
    with pytest.raises(ValueError, match="non-finite"):
        ot.w2_game(apply, np.full((8, 2), np.nan, np.float32), z)
    with pytest.raises(ValueError, match="epsilon"):
        ot.w2_game(apply, data, z, coupling="sinkhorn", epsilon=0.0)
    with pytest.raises(ValueError, match="exact"):
        ot.w2_metrics(ot.w2_game(apply, data, z[:6], coupling="sinkhorn"))


def test_cli_w2_quick(tmp_path, capsys):
    assert cli.main(["w2", "--quick", "--couplings", "exact", "--seeds", "1", "--out", str(tmp_path)]) == 0
    rows = json.load(open(tmp_path / "w2.json"))["rows"]
    assert [r["coupling"] for r in rows] == ["exact"]
    row = rows[0]
    assert row["steps"] == 300 and row["memorized_fraction"] == 1.0 and row["w2_bound_final"] < 0.1
    assert (tmp_path / "w2.csv").exists() and (tmp_path / "w2_samples.png").stat().st_size > 0
    assert "memorized_fraction" in capsys.readouterr().out
    assert cli.main(["w2", "--data", "cifar10", "--out", str(tmp_path)]) == 2
    assert cli.main(["w2", "--couplings", "greedy", "--out", str(tmp_path)]) == 2
