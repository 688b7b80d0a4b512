"""Score the background swap's motion masks against the generator's objects.

    python tools/data/check_swap_masks.py motion10 busy8 --out masks.json

For each named member of the benchmark family, draws clips of the tiny
config's shape (8 frames 2 apart from the middle of a video, resized to
32 x 32), computes :func:`cacl_mm.models.utils.background_swap.motion_masks`
on them and compares it with where the objects are: the same clip rendered
again with the same random draws on a black background, without noise, with
white objects (the union of the objects over the clip's frames). Precision
is the share of mask pixels on an object, recall the share of object pixels
in the mask. The videos are rendered in memory, not encoded: codec artefacts
are not part of the score.
"""
import argparse
import json
import sys
from typing import Dict, List

CLIP_LEN, FRAME_INTERVAL, SIZE = 8, 2, 32  # the tiny config's clips


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'members', nargs='+', help='family members (motion10, busy8, ...)')
    parser.add_argument(
        '--clips', type=int, default=40, help='clips per member (40)')
    parser.add_argument(
        '--foreground-fraction',
        type=float,
        default=0.15,
        help='as model.data_preprocessor.background_swap (0.15)')
    parser.add_argument(
        '--dilation', type=int, default=1, help='as background_swap (1)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--out', default='swap_masks.json', help='JSON written here')
    return parser.parse_args(argv)


def _clip(spec, label: str, group: int, clip: int, objects_only: bool):
    """(C, T, 32, 32) float clip of one video, or its objects in white."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from cacl_mm.datasets.motion_benchmark.render import (group_nuisance,
                                                          render_video)
    from cacl_mm.datasets.motion_benchmark.writer import video_rng

    rng = video_rng(spec, label, group, clip)
    nuisance = group_nuisance(spec, group)
    if objects_only:
        white = np.full(3, 255.0)
        # Zero noise still draws its normals: the trajectories stay the same.
        nuisance = dict(
            nuisance,
            background=np.zeros_like(nuisance['background']),
            noise=0.0,
            colour=white,
            companion_colour=white)
    frames = render_video(label, rng, nuisance, spec)  # (T, H, W, 3)
    span = (CLIP_LEN - 1) * FRAME_INTERVAL + 1
    start = (spec.num_frames - span) // 2
    clip_frames = torch.from_numpy(frames[start:start +
                                          span:FRAME_INTERVAL]).float()
    return F.interpolate(
        clip_frames.permute(3, 0, 1, 2),
        size=(SIZE, SIZE),
        mode='bilinear',
        align_corners=False)


def score_member(name: str, args: argparse.Namespace) -> Dict[str, float]:
    """Mean precision and recall of the masks over ``args.clips`` clips."""
    import numpy as np

    from cacl_mm.datasets.benchmark_family import FAMILY
    from cacl_mm.models.utils.background_swap import motion_masks

    spec = FAMILY[name].spec
    rng = np.random.default_rng(args.seed)
    precision: List[float] = []
    recall: List[float] = []
    for k in range(args.clips):
        label = spec.classes[k % len(spec.classes)]
        group = int(rng.integers(1, spec.num_groups + 1))
        # clips are numbered from 1, as the writer's plan()
        clip = int(rng.integers(1, spec.clips_per_group + 1))
        video = _clip(spec, label, group, clip, objects_only=False)
        objects = (_clip(spec, label, group, clip, objects_only=True).mean(0)
                   > 64).any(0)  # (32, 32): where any object passes
        mask = motion_masks(video[None], args.foreground_fraction,
                            args.dilation)[0, 0, 0]
        hits = (mask & objects).sum().item()
        precision.append(hits / max(1, mask.sum().item()))
        recall.append(hits / max(1, objects.sum().item()))
    return dict(
        precision=float(np.mean(precision)),
        recall=float(np.mean(recall)),
        clips=args.clips,
        camera_motion=spec.camera_motion,
        texture=spec.texture,
        noise=list(spec.noise))


def main(argv=None) -> int:
    args = parse_args(argv)
    from cacl_mm.datasets.benchmark_family import FAMILY
    unknown = [name for name in args.members if name not in FAMILY]
    if unknown:
        print(
            f'check_swap_masks: error: not a family member: '
            f'{", ".join(unknown)} (members: {", ".join(sorted(FAMILY))})',
            file=sys.stderr)
        return 2
    scores = {}
    for name in args.members:
        scores[name] = score_member(name, args)
        print(
            f"{name}: precision {scores[name]['precision']:.2f}, "
            f"recall {scores[name]['recall']:.2f}",
            flush=True)
    with open(args.out, 'w') as file:
        json.dump(
            dict(
                foreground_fraction=args.foreground_fraction,
                dilation=args.dilation,
                members=scores),
            file,
            indent=2)
    print(f'written {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
