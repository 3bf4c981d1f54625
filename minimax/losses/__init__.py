"""Statistical distances as pure functions."""
from minimax.losses.critic import linear, logistic
from minimax.losses.distances import DISTANCES, Distance, from_critic_loss

__all__ = ["linear", "logistic", "DISTANCES", "Distance", "from_critic_loss"]
