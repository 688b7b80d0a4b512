from .retrieval import build_retrieval_cfg, run_retrieval

__all__ = ['build_retrieval_cfg', 'run_retrieval']
