"""Figures: curves, retrieval grids, embedding maps, edit-distance confusion.
"""
from .curves import load_curves, plot_curves
from .embedding_map import plot_embedding_maps
from .med_confusion import plot_med_confusion
from .retrieval_grid import draw_retrieval_grid

__all__ = [
    'load_curves', 'plot_curves', 'plot_embedding_maps', 'plot_med_confusion',
    'draw_retrieval_grid'
]
