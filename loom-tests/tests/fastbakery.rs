//! Loom models of the fast bakery: Lamport's fast gate in front of the
//! bakery. Two participants racing reach the gate together, so the models see
//! the gate's overlap case, the slow side, and a gate owner deferring to it.
#![cfg(loom)]

use doorway::fastbakery::FastBakery;
use doorway::fastbakery::SlowPath;
use doorway_loom_tests::{Bound, LockBounds, Model, harness};

/// The fast bakery's own fences and its queue's (the bakery's).
const FENCES: [doorway::__private::FenceSite; 5] = {
    let [a, b, c] = doorway::fastbakery::FENCES;
    let [d, e] = doorway::bakery::FENCES;
    [a, b, c, d, e]
};

/// The fast bakery's own named orderings and its queue's.
const ORDERINGS: [doorway::__private::Access; 13] = {
    let [a, b, c, d, e, f, g, h, i] = doorway::fastbakery::ORDERINGS;
    let [j, k, l, m] = doorway::bakery::ORDERINGS;
    [a, b, c, d, e, f, g, h, i, j, k, l, m]
};

/// Three participants under loom: models that loom cannot finish.
///
/// `Y` is written by every participant (its mark when it closes the gate, 0
/// when it leaves or defers), and loom orders such stores only partially: a
/// slow side waiting for `Y = 0` may be handed an older mark again and again
/// after its yields, while in any execution the language allows, the last
/// store to `Y` in its modification order is a 0 it must come to read. Every
/// three-participant model of this lock (even one acquisition each at
/// preemption bound 1, with or without a spin cap) ends at loom's branch
/// limit in such a loop. Before the deferring owner's two stores were
/// `Release`, the same models found a real violation first: they are kept as
/// models that must catch those two weakenings. Three participants are
/// otherwise checked by Miri (`shapes::fastbakery_three_participants`) and on
/// real threads (`tests/locks.rs`).
fn three_participants(rounds: usize, bound: usize, aimed_at: &'static str) -> Model {
    Model::new(
        format!("FastBakery<3> 3 participants x {rounds} (catching only: loom livelocks on Y)"),
        Bound::Preemptions(bound),
        move || harness::mutual_exclusion(FastBakery::<3>::new(), 3, rounds),
    )
    .spin_cap(8)
    .may_get_stuck()
    .tried_first_for(&[aimed_at])
}

doorway_loom_tests::lock_models! {
    name: "FastBakery",
    two: || FastBakery::<2>::new(),
    three: none,
    bounds: LockBounds::default(),
    fences: &FENCES,
    orderings: &ORDERINGS,
    // Each is tried first for the weakening it catches, which every
    // two-participant model misses: at bound 1 the two-round model finds the
    // reopened gate in seconds; only the one-round model at bound 2 finds the
    // gate left early (in about two minutes; the two-round one gets stuck).
    catching_only: vec![
        three_participants(2, 1, "fastbakery: a deferring owner reopens the gate (Y = 0)"),
        three_participants(1, 2, "fastbakery: a deferring owner leaves the gate (b = 0)"),
    ],
    // loom joins every SeqCst fence to one global order, which orders the
    // previous fast holder before the overlap case's owner anyway; Miri,
    // following the language's model, does not.
    miri: [
        ("fastbakery: fast exit (b = 0)", "shapes::fastbakery_gate_and_slow_side"),
        ("fastbakery: the overlap case reads b", "shapes::fastbakery_gate_and_slow_side"),
    ],
}

/// First come, first served on the slow path: with every acquisition sent
/// through the bakery, no participant overtakes an earlier doorway.
#[test]
fn the_slow_path_is_first_come_first_served_bounded() {
    Model::new(
        "FastBakery<2> slow path only, FIFO audit, 2 participants x 2 acquisitions",
        Bound::Preemptions(3),
        || {
            let report = harness::fifo_audit(SlowPath::<2>::default(), 2, 2);
            assert_eq!(report.overtakes, 0, "{report:?}");
        },
    )
    .check();
}

/// A waiter that gives up on the slow path, against one that stays.
#[test]
fn a_slow_waiter_withdraws_without_a_trace_exhaustive() {
    Model::new(
        "FastBakery<2> lock vs a waiter that gives up",
        Bound::Exhaustive,
        || harness::withdrawal_exclusion(FastBakery::<2>::new(), 2),
    )
    .check();
}
