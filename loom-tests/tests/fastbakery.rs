//! Loom models of the fast bakery: Lamport's fast gate in front of the
//! bakery. Two participants racing reach the gate together, so the models see
//! the gate's overlap case, the slow side, and a gate owner deferring to it.
#![cfg(all(loom, doorway_mutants))]

use doorway::FastBakery;
use doorway::fastbakery::SlowPath;
use doorway_loom_tests::{Bound, LockBounds, Model, harness};

/// The fast bakery's own fences and its queue's (the bakery's).
const FENCES: [doorway::__private::FenceSite; 6] = {
    let [a, b, c, d] = doorway::fastbakery::FENCES;
    let [e, f] = doorway::bakery::FENCES;
    [a, b, c, d, e, f]
};

/// The fast bakery's own named orderings and its queue's.
const ORDERINGS: [doorway::__private::Access; 11] = {
    let [a, b, c, d, e, f, g] = doorway::fastbakery::ORDERINGS;
    let [h, i, j, k] = doorway::bakery::ORDERINGS;
    [a, b, c, d, e, f, g, h, i, j, k]
};

doorway_loom_tests::lock_models! {
    name: "FastBakery<2>",
    two: || FastBakery::<2>::new(),
    three: || FastBakery::<3>::new(),
    bounds: LockBounds::default(),
    fences: &FENCES,
    orderings: &ORDERINGS,
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
