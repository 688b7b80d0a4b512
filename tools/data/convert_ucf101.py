"""UCF101 official splits -> MMAction2 list files.

    python tools/data/convert_ucf101.py data/ucf101/annotations data/ucf101 \
        --video-root data/ucf101/videos

writes ``ucf101_{train,val}_split_{1,2,3}_videos.txt`` into the output folder.
"""
import sys

from cacl_mm.datasets.annotations import convert_ucf101, converter_main

if __name__ == '__main__':
    sys.exit(converter_main(
        convert_ucf101, 'ucf101',
        'folder with classInd.txt, trainlist0N.txt, testlist0N.txt', __doc__))
