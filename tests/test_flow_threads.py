"""The flow threads keep order, raise a task's error where the results are taken, and never deadlock when
a task maps again (it runs in place)."""

import threading

import pytest

from navtalk_desktop.core.flow_threads import map_flows


def test_results_keep_the_order_of_the_items():
    assert map_flows(lambda x: x * x, range(50)) == [x * x for x in range(50)]


def test_more_than_one_item_runs_off_the_calling_thread():
    caller = threading.get_ident()
    assert any(t != caller for t in map_flows(lambda _: threading.get_ident(), range(8)))


def test_an_error_in_a_task_is_raised_to_the_caller():
    def fail_on_three(x):
        if x == 3:
            raise ValueError("three")
        return x

    with pytest.raises(ValueError, match="three"):
        map_flows(fail_on_three, range(6))


def test_a_task_that_maps_again_runs_in_place_instead_of_waiting_on_its_own_pool():
    done = []

    def outer(x):
        inner_threads = map_flows(lambda _: threading.get_ident(), range(3))
        done.append(x)
        return set(inner_threads) == {threading.get_ident()}

    box = []
    t = threading.Thread(target=lambda: box.append(map_flows(outer, range(8))), daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive(), "map_flows deadlocked on a nested call"
    assert box == [[True] * 8] and sorted(done) == list(range(8))
