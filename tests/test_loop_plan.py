"""Loop plan arithmetic: frame counts, clamping inside the video, errors."""

from fractions import Fraction

import pytest

from navtalk_desktop.core.errors import PlanError
from navtalk_desktop.core.loop_plan import LoopPlan, make_plan


@pytest.mark.parametrize("fps,frames", [(24, 96), (25, 100), (30, 120), (Fraction(30000, 1001), 120)])
def test_default_is_four_seconds_at_source_rate(fps, frames):
    for strategy in ("pingpong", "crossfade"):
        plan = make_plan(strategy, Fraction(fps), 400, 200)
        assert plan.output_frames == frames
        assert len(plan.output_sources()) == frames


def test_pingpong_plays_each_turn_frame_once():
    plan = make_plan("pingpong", Fraction(25), 300, 100)
    order = [parts[0][0] for parts in plan.output_sources()]
    assert plan.span == 51 and len(order) == 100
    assert order.count(plan.first) == 1 and order.count(plan.last) == 1
    # Cyclic sequence: no two neighbours are the same frame, wrap included.
    assert all(order[i] != order[(i + 1) % len(order)] for i in range(len(order)))
    assert plan.first == 100 - 25  # 1 s before the loop point


def test_crossfade_keeps_blink_out_of_fade_and_wraps_to_pure_head():
    plan = make_plan("crossfade", Fraction(25), 300, 100, crossfade=0.4)
    sources = plan.output_sources()
    assert plan.crossfade_frames == 10
    assert sources[0] == [(plan.first, 1.0)]
    assert sources[-1][-1] == (plan.first - 1, 1.0)  # the last frame is the frame before the first
    faded = plan.faded_range
    assert not faded[0] <= plan.loop_point <= faded[1]


@pytest.mark.parametrize("point", [0, 5, 290, 299])
def test_window_shifts_inside_never_shortens(point):
    for strategy in ("pingpong", "crossfade"):
        plan = make_plan(strategy, Fraction(25), 300, point)
        lo, hi = plan.source_range
        assert lo >= 0 and hi <= 299
        assert plan.output_frames == 100


def test_too_short_video_is_a_clear_error():
    with pytest.raises(PlanError, match="needs"):
        make_plan("crossfade", Fraction(25), 60, 30)


def test_round_trip_and_moves():
    plan = make_plan("pingpong", Fraction(30), 300, 150)
    assert LoopPlan.from_dict(plan.to_dict()) == plan
    moved = plan.with_loop_point(160)
    assert moved.first == plan.first + 10 and moved.output_frames == plan.output_frames
    with pytest.raises(PlanError):
        plan.with_window(-5, 40)
