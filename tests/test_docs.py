"""The documentation's links resolve, and the README stays a README.

Every relative link ``[text](path#anchor)`` in README.md, docs/*.md and the
configs' README files names a file of the repository, and an anchor names a
heading of that file (GitHub's slugs: lower case, punctuation dropped,
spaces to hyphens).
"""
import glob
import os.path as osp
import re

import pytest

from helpers import REPO

LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
MAX_README_BYTES = 15_000


def documents() -> list:
    return sorted([osp.join(REPO, 'README.md')] +
                  glob.glob(osp.join(REPO, 'docs', '*.md')) +
                  glob.glob(osp.join(REPO, 'configs', '*', 'README.md')))


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r'[`*_]', '', heading.strip().lower())
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def prose(path: str) -> str:
    """A Markdown file without its code blocks (their ``#`` lines are
    comments, not headings)."""
    with open(path) as f:
        return re.sub(r'```.*?```', '', f.read(), flags=re.S)


def anchors(path: str) -> set:
    return {
        slug(line.lstrip('#'))
        for line in prose(path).splitlines() if re.match(r'#{1,6} ', line)
    }


def relative_links(path: str) -> list:
    text = prose(path)
    return [
        link for link in LINK.findall(text)
        if not re.match(r'[a-z]+:', link)  # http:, https:, mailto:
    ]


def test_slugs_are_githubs():
    assert slug('What is not done yet') == 'what-is-not-done-yet'
    assert slug('Workarounds for the pinned `stack`') == \
        'workarounds-for-the-pinned-stack'
    assert slug('A CACL backbone in an existing MMAction2 config') == \
        'a-cacl-backbone-in-an-existing-mmaction2-config'
    assert slug('Pretraining: commands, and what they check') == \
        'pretraining-commands-and-what-they-check'


@pytest.mark.parametrize(
    'document', documents(), ids=lambda p: osp.relpath(p, REPO))
def test_every_relative_link_resolves(document):
    broken = []
    for link in relative_links(document):
        target, _, anchor = link.partition('#')
        path = osp.normpath(osp.join(osp.dirname(document),
                                     target)) if target else document
        if not osp.exists(path):
            broken.append(f'{link}: no file {osp.relpath(path, REPO)}')
        elif anchor and path.endswith('.md') and anchor not in anchors(path):
            broken.append(f'{link}: no heading #{anchor}')
    assert not broken, broken


def test_the_checker_sees_a_broken_link(tmp_path, monkeypatch):
    page = tmp_path / 'page.md'
    page.write_text('# Title\n[a](missing.md) [b](#title) [c](#nothing)\n'
                    '```\n# nothing\n[d](in_code.md)\n```\n'
                    '[e](https://x.org/y)\n')
    assert relative_links(str(page)) == ['missing.md', '#title', '#nothing']
    with pytest.raises(AssertionError, match='missing.md.*#nothing'):
        test_every_relative_link_resolves(str(page))


def test_readme_is_short_and_leads_with_what_a_newcomer_needs():
    path = osp.join(REPO, 'README.md')
    assert osp.getsize(path) <= MAX_README_BYTES
    with open(path) as f:
        headings = [
            line.strip('# \n').lower() for line in f
            if re.match(r'#{2} ', line)
        ]
    first = ' | '.join(headings[:6])
    for needed in ('install', 'own data', 'ucf101'):
        assert needed in first, (needed, headings)


#: What a measured result looks like in a comment: a duration, a readout
#: with its value, or two results set against each other ("0.195 / 0.175").
RESULT_IN_COMMENT = re.compile(r'\b\d+(\.\d+)? ?(s|ms|min|h)\b'
                               r'|\b(R@\d+|top-?1|acc(uracy)?|probe)\W{0,3}\d'
                               r'|\b\d+\.\d+ ?/ ?\d+\.\d+\b')


def config_comments(path: str) -> list:
    """``(line number, comment)`` of every ``#`` comment of a config."""
    found = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            code, hash_, comment = line.partition('#')
            if hash_ and code.count("'") % 2 == 0 and \
                    code.count('"') % 2 == 0:
                found.append((number, comment.strip()))
    return found


def results_quoted(path: str) -> list:
    return [
        f'{osp.relpath(path, REPO)}:{number}: {comment}'
        for number, comment in config_comments(path)
        if RESULT_IN_COMMENT.search(comment)
    ]


def test_configs_quote_no_measured_result():
    """Results live in configs/<algo>/README.md and docs/, as OpenMMLab
    keeps them; a config's comments give reasons."""
    quoted = []
    for path in sorted(
            glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                      recursive=True)):
        quoted += results_quoted(path)
    assert not quoted, '\n'.join(quoted)


def test_the_result_check_sees_a_quoted_result(tmp_path):
    config = tmp_path / 'config.py'
    config.write_text("lr = 0.05  # at 0.01 R@1 18.5\n"
                      "# the check takes about 6 s each\n"
                      "# CACL 0.195 / 0.175 against the baseline\n"
                      "name = 'a # b 3 s'\n"
                      "# 0.99 rising to 1 over 1000 steps, 37% kept\n")
    assert [
        line.split(': ')[0].split(':')[-1]
        for line in results_quoted(str(config))
    ] == ['1', '2', '3']
