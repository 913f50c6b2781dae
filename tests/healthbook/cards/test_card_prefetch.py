"""The validating thread (pipeline.Prefetch): items arrive in order, the generator's error reaches
the consumer, and while any file is read the collector's young generation is collected less
often; the thresholds come back when the last reader ends, however the reading ended."""

import gc

import pytest

from healthbook.cards import pipeline


@pytest.fixture
def default_thresholds():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_items_in_order_and_thresholds_raised_only_while_reading(default_thresholds):
    seen_inside = []

    def produce():
        for i in range(5):
            seen_inside.append(gc.get_threshold())
            yield i

    with pipeline.Prefetch(produce) as items:
        assert list(items) == [0, 1, 2, 3, 4]
    assert {t[0] for t in seen_inside} == {pipeline._GC_YOUNG}
    assert {t[1:] for t in seen_inside} == {(10, 10)}
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_readers_restore_the_thresholds_once_the_last_ends(default_thresholds):
    outer = pipeline.Prefetch(lambda: iter(range(3)))
    inner = pipeline.Prefetch(lambda: iter(range(3)))
    outer_items = outer.__enter__()
    inner_items = inner.__enter__()
    assert list(outer_items) == [0, 1, 2]
    outer.__exit__(None, None, None)
    assert gc.get_threshold()[0] == pipeline._GC_YOUNG  # the inner reader is still reading
    assert list(inner_items) == [0, 1, 2]
    inner.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_failing_generator_raises_in_the_consumer_and_restores(default_thresholds):
    def produce():
        yield 1
        raise ValueError("bad record")

    got = []
    with pytest.raises(ValueError, match="bad record"), pipeline.Prefetch(produce) as items:
        for item in items:
            got.append(item)
    assert got == [1]
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_set_by_the_process_is_kept(default_thresholds):
    gc.set_threshold(500_000, 5, 5)
    with pipeline.Prefetch(lambda: iter(range(2))) as items:
        assert gc.get_threshold() == (500_000, 5, 5)
        assert list(items) == [0, 1]
    assert gc.get_threshold() == (500_000, 5, 5)
