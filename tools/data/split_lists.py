"""The command line shared by ``convert_ucf101.py`` and ``convert_hmdb51.py``.

Imported by those two scripts (their folder is on ``sys.path`` when they
run); ``--help`` answers before :mod:`cacl_mm` (torch, mmaction) loads.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional


def main(dataset: str,
         source_help: str,
         doc: str,
         argv: Optional[List[str]] = None) -> int:
    """Convert the official splits of ``dataset`` to MMAction2 lists.

    Without ``--splits``, every split whose files exist is converted, and
    the tool says which. A requested split without files is an error that
    names the file and the splits that do exist.

    Args:
        dataset (str): ``'ucf101'`` or ``'hmdb51'`` (also the default list
            file prefix).
        source_help (str): What the first argument is.
        doc (str): The tool's docstring (first line is the description).
        argv (list[str], optional): Arguments; defaults to ``sys.argv``.

    Returns:
        int: 0, or 1 after printing the located error.
    """
    parser = argparse.ArgumentParser(
        description=doc.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=doc)
    parser.add_argument('source', help=source_help)
    parser.add_argument('out_dir', help='where the list files go')
    parser.add_argument('--video-root', help='check every video exists here')
    parser.add_argument(
        '--splits',
        type=int,
        nargs='+',
        choices=(1, 2, 3),
        help='splits to convert (default: every split whose '
        'files are in SOURCE)')
    parser.add_argument('--name', default=dataset, help='list file prefix')
    args = parser.parse_args(argv)

    from cacl_mm.datasets import annotations
    convert = getattr(annotations, f'convert_{dataset}')
    present = getattr(annotations, f'{dataset}_splits')(args.source)
    splits = args.splits or present
    try:
        if not osp.isdir(args.source):
            raise annotations.AnnotationError(args.source, None,
                                              'folder not found')
        if not splits:
            raise annotations.AnnotationError(
                args.source, None, f'no split files ({source_help})')
        if not args.splits:
            print(f'{args.source}: split(s) {", ".join(map(str, splits))} '
                  'found, converting them')
        missing = [split for split in splits if split not in present]
        if missing:  # before anything is written
            found = (f'split(s) {" ".join(map(str, present))} exist: '
                     f'--splits {" ".join(map(str, present))}'
                     if present else 'no split exists there')
            raise annotations.AnnotationError(
                args.source, None,
                f'split {missing[0]} has no files ({found})')
        for split in splits:
            train, test = convert(args.source, split, args.video_root)
            names = annotations.list_file_names(args.name, split)
            for fname, lines in zip(names, (train, test)):
                path = annotations.write_list(
                    osp.join(args.out_dir, fname), lines)
                print(f'{path}: {len(lines)} videos')
    except annotations.AnnotationError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    return 0
