"""HMDB51 official splits -> MMAction2 list files.

    python tools/data/convert_hmdb51.py data/hmdb51/testTrainMulti_7030_splits \
        data/hmdb51 --video-root data/hmdb51/videos

writes ``hmdb51_{train,val}_split_{1,2,3}_videos.txt``; labels follow the
sorted action names; lines marked 0 (unused) are left out.
"""
import argparse
import os.path as osp
import sys

from cacl_mm.datasets.annotations import (AnnotationError, convert_hmdb51,
                                          list_file_names, write_list)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('split_dir', help='folder of <action>_test_split<N>.txt')
    parser.add_argument('out_dir', help='where the list files go')
    parser.add_argument('--video-root', help='check every video exists here')
    parser.add_argument('--splits', type=int, nargs='+', default=[1, 2, 3])
    parser.add_argument('--name', default='hmdb51', help='list file prefix')
    args = parser.parse_args(argv)
    try:
        for split in args.splits:
            train, test = convert_hmdb51(args.split_dir, split, args.video_root)
            names = list_file_names(args.name, split)
            for name, lines in zip(names, (train, test)):
                path = write_list(osp.join(args.out_dir, name), lines)
                print(f'{path}: {len(lines)} videos')
    except AnnotationError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
