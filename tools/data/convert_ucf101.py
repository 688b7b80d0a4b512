"""UCF101 official splits -> MMAction2 list files.

    python tools/data/convert_ucf101.py data/ucf101/annotations data/ucf101 \
        --video-root data/ucf101/videos

writes ``ucf101_{train,val}_split_N_videos.txt`` into the output folder for
every split N whose two lists are there (``--splits`` picks some).
"""
import sys

from split_lists import main

if __name__ == '__main__':
    sys.exit(
        main('ucf101', 'folder with classInd.txt, trainlist0N.txt, '
             'testlist0N.txt', __doc__))
