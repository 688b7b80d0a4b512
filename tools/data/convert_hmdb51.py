"""HMDB51 official splits -> MMAction2 list files.

    python tools/data/convert_hmdb51.py \
        data/hmdb51/testTrainMulti_7030_splits \
        data/hmdb51 --video-root data/hmdb51/videos

writes ``hmdb51_{train,val}_split_N_videos.txt`` for every split N found;
labels follow the sorted action names; lines marked 0 (unused) are left out.
"""
import sys

from split_lists import main

if __name__ == '__main__':
    sys.exit(main('hmdb51', 'folder of <action>_test_split<N>.txt', __doc__))
