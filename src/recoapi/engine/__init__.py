"""The recommendation engine: signal weights, training, models and serving-time ranking.

Call order on the server and in ``recoapi eval``::

    model = train(data, TrainingOptions())               # worker thread, off the request path
    ids = rank_events(model, items, ratings, amt=10)     # one user's or session's raw events

and for many profiles at once (offline)::

    profiles = build_profiles(model.n_items, rows, items, ratings=...)
    ids = rank_profiles(model, profiles, amt=10, exclude=..., always_exclude=...)
"""

from __future__ import annotations

from recoapi.engine.base import PropertyColumn, Recommender, TrainingData
from recoapi.engine.live import rank_events
from recoapi.engine.models import load_model
from recoapi.engine.profiles import (
    ProfileWeighting,
    build_low_rated,
    build_profiles,
    interaction_weights,
    rating_weights,
)
from recoapi.engine.ranking import rank_profile, rank_profiles, rank_similar
from recoapi.engine.training import TrainingOptions, build_signals, train

__all__ = [
    "ProfileWeighting",
    "PropertyColumn",
    "Recommender",
    "TrainingData",
    "TrainingOptions",
    "build_low_rated",
    "build_profiles",
    "build_signals",
    "interaction_weights",
    "load_model",
    "rank_events",
    "rank_profile",
    "rank_profiles",
    "rank_similar",
    "rating_weights",
    "train",
]
