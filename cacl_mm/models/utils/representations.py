"""The four representations CACL compares, as a small typed vocabulary.

Configs and logs name them ``'cnn_q'``, ``'cnn_k'``, ``'trans_q'`` and
``'trans_k'`` (architecture, then ``q``: online encoder on view 1 or ``k``:
momentum encoder on view 2); code uses :class:`Representation` values and
:class:`Arch` members, never sliced strings.
"""
from __future__ import annotations
from dataclasses import dataclass
from enum import Enum
from typing import List, Sequence, Tuple, Union


class Arch(str, Enum):
    """An encoder architecture; the value is its name in configs and logs."""

    CNN = 'cnn'
    TRANSFORMER = 'trans'


@dataclass(frozen=True)
class Representation:
    """One of the four embeddings of a clip.

    Attributes:
        arch (Arch): The encoder's architecture.
        momentum (bool): The momentum encoder on view 2 (a key, ``_k``);
            False: the online encoder on view 1 (a query, ``_q``).
    """

    arch: Arch
    momentum: bool

    @classmethod
    def parse(cls, name: Union[str, 'Representation']) -> 'Representation':
        """``'trans_k'`` -> ``Representation(Arch.TRANSFORMER, True)``."""
        if isinstance(name, Representation):
            return name
        arch, _, side = str(name).rpartition('_')
        if arch not in {a.value for a in Arch} or side not in ('q', 'k'):
            raise ValueError(f'unknown representation {name!r}; names are '
                             f'{[str(r) for r in REPRESENTATIONS]}')
        return cls(Arch(arch), side == 'k')

    def __str__(self) -> str:
        return f"{self.arch.value}_{'k' if self.momentum else 'q'}"


CNN_Q = Representation(Arch.CNN, False)
CNN_K = Representation(Arch.CNN, True)
TRANS_Q = Representation(Arch.TRANSFORMER, False)
TRANS_K = Representation(Arch.TRANSFORMER, True)
REPRESENTATIONS = (CNN_Q, CNN_K, TRANS_Q, TRANS_K)

Pair = Tuple[Representation, Representation]
#: The released code's positive pairs (models/vmoco_with_transformer.py).
PAPER_PAIRS: Tuple[Pair, ...] = ((CNN_Q, CNN_K), (CNN_Q, TRANS_Q),
                                 (CNN_Q, TRANS_K), (TRANS_Q, TRANS_K))


def parse_pairs(pairs: Sequence[Sequence[Union[str, Representation]]],
                key: str = 'contrast_head.pairs') -> List[Pair]:
    """Check positive pairs and parse their names.

    Args:
        pairs: ``(anchor, positive)`` names or representations.
        key (str): The config key named in errors.

    Returns:
        list[tuple[Representation, Representation]]: The pairs, in order.
    """
    checked = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f'{key}: {tuple(pair)} is not a pair')
        try:
            anchor, positive = (Representation.parse(n) for n in pair)
        except ValueError as error:
            raise ValueError(f'{key}: {error}') from None
        if anchor == positive:
            raise ValueError(f'{key}: {tuple(pair)} pairs a representation '
                             'with itself')
        if anchor.momentum and positive.momentum:
            raise ValueError(f'{key}: {tuple(pair)} has no online side '
                             '(momentum keys carry no gradient)')
        checked.append((anchor, positive))
    if not checked:
        raise ValueError(f'{key} is empty')
    if len(set(checked)) != len(checked):
        raise ValueError(f'{key} has duplicates: '
                         f'{[tuple(map(str, p)) for p in checked]}')
    return checked
