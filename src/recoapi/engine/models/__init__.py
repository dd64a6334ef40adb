"""One module per model; each has ``fit``, ``score_profiles``, ``similar_items``,
``save`` and ``load`` (``.npz``, readable with ``allow_pickle=False``). ``neighbors`` is a
part of the hybrid that only answers item-to-items (no profile scores, saved inside it)."""

from __future__ import annotations

from recoapi.engine.models.content import ContentConfig, ContentModel
from recoapi.engine.models.ease import EaseConfig, EaseModel
from recoapi.engine.models.hybrid import HybridConfig, HybridModel
from recoapi.engine.models.neighbors import NeighborConfig, NeighborModel
from recoapi.engine.models.popularity import PopularityModel

__all__ = [
    "ContentConfig",
    "ContentModel",
    "EaseConfig",
    "EaseModel",
    "HybridConfig",
    "HybridModel",
    "NeighborConfig",
    "NeighborModel",
    "PopularityModel",
    "load_model",
]


def load_model(path: str) -> HybridModel:
    """Load a model written by ``model.save(path)`` (the default hybrid)."""
    return HybridModel.load(path)
