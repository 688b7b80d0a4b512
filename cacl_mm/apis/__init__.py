from .retrieval import build_retrieval_cfg, crop_options, run_retrieval

__all__ = ['build_retrieval_cfg', 'crop_options', 'run_retrieval']
