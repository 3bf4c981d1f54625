"""Training: steps and runs that carry their state (:mod:`~minimax.train.run`), sweeps over seeds and
hyperparameters in one compiled program (:mod:`~minimax.train.sweep`), the compiled-program cache
(:mod:`~minimax.train.compile`) and several processes (:mod:`~minimax.train.distributed`)."""
from minimax.train.compile import CompiledProgram, compile_stats, compiled
from minimax.train.run import (RunResult, TrainState, default_metrics, init_state, make_step, run, tree_all_finite,
                               tree_norm)
from minimax.train.sweep import (STRATEGIES, Checkpointing, Interrupted, PreparedSweep, auto_choices,
                                 hyperparameter_grid, sweep)

__all__ = ["TrainState", "RunResult", "Interrupted", "Checkpointing", "init_state", "make_step", "run",
           "default_metrics", "tree_all_finite", "tree_norm", "hyperparameter_grid", "sweep", "PreparedSweep", "STRATEGIES",
           "auto_choices", "compiled", "CompiledProgram", "compile_stats"]
