"""The demo's stage graph: each stage starts once what it needs has ended,
the earliest added first, ``jobs`` at a time; an error stops the graph."""
import threading
import time

import pytest

from cacl_mm.analysis.stage_graph import StageGraph


def recorder(order, name, value=None):

    def stage():
        order.append(name)
        return value

    return stage


def test_one_job_runs_the_stages_in_the_order_they_were_added():
    order = []
    graph = StageGraph(1)
    a = graph.add('a', recorder(order, 'a', 1))
    graph.add('b', recorder(order, 'b', 2))
    graph.add('c', recorder(order, 'c', 3), after=[a])
    assert graph.run() == dict(a=1, b=2, c=3)
    assert order == ['a', 'b', 'c']


def test_a_stage_waits_for_what_it_needs_and_others_go_first():
    """Added first, 'late' needs 'slow': 'free' (added after it) runs
    while 'slow' does, and 'late' starts only once 'slow' has ended."""
    order = []
    both_running = threading.Event()
    started = []

    def slow():
        started.append('slow')
        # Two jobs: 'free' starts beside this stage; with one job at a time
        # the wait would time out.
        ok = both_running.wait(timeout=10)
        order.append('slow')
        return ok

    def free():
        started.append('free')
        both_running.set()
        order.append('free')

    graph = StageGraph(2)
    slow_stage = graph.add('slow', slow)
    graph.add('late', recorder(order, 'late'), after=[slow_stage])
    graph.add('free', free)
    values = graph.run()
    assert values['slow'] is True
    assert started == ['slow', 'free']
    assert order.index('late') > order.index('slow')


def test_a_stage_sees_the_value_of_the_stage_it_needs():
    graph = StageGraph(2)
    a = graph.add('a', lambda: 20)
    graph.add('b', lambda: a.result() + 1, after=[a])
    assert graph.run()['b'] == 21


def test_an_error_stops_the_graph_and_is_raised_after_the_running_stages():
    order = []
    release = threading.Event()

    def fails():
        time.sleep(0.1)
        raise ValueError('stage a failed')

    def running():
        # Still running when 'a' fails: it is waited for, not abandoned.
        release.wait(timeout=10)
        order.append('running')

    graph = StageGraph(2)
    a = graph.add('a', fails)
    graph.add('running', running)
    graph.add('after a', recorder(order, 'after a'), after=[a])
    graph.add('independent', recorder(order, 'independent'))
    threading.Timer(0.5, release.set).start()
    with pytest.raises(ValueError, match='stage a failed'):
        graph.run()
    assert graph.cancel.is_set()
    assert order == ['running']  # nothing started after the error


def test_a_stage_needs_stages_already_in_the_graph():
    graph = StageGraph(1)
    other = StageGraph(1).add('elsewhere', lambda: None)
    with pytest.raises(ValueError, match="needs 'elsewhere'"):
        graph.add('b', lambda: None, after=[other])
    with pytest.raises(ValueError, match='at least 1'):
        StageGraph(0)
    with pytest.raises(RuntimeError, match='has not run'):
        other.result()
