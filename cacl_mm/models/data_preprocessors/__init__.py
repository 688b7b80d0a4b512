from .view_augment_data_preprocessor import ViewAugmentDataPreprocessor

__all__ = ['ViewAugmentDataPreprocessor']
