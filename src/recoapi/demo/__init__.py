"""Demos run by ``recoapi demo``: the MovieLens walkthrough (``movielens.py``)."""
