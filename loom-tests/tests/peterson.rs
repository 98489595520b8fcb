//! Loom models of Peterson's lock.
//!
//! The mutation tests are the point of the fence placement: removing the
//! `INTEREST` fence leaves the single fence after both doorway stores, and
//! weakening it to `AcqRel` is at least as strong as making the `latecomer`
//! store a release store. loom finds two participants in the critical
//! section in both cases, as the C++/Rust memory model allows it to.
#![cfg(loom)]

use doorway::peterson::Peterson;
use doorway_loom_tests::{Bound, LockBounds, Model, harness};

doorway_loom_tests::lock_models! {
    name: "Peterson",
    two: || Peterson::new(),
    three: none,
    bounds: LockBounds::default(),
    fences: &doorway::peterson::FENCES,
    orderings: &doorway::peterson::ORDERINGS,
}

/// First come, first served with two acquisitions each: a participant whose
/// doorway ended before the other's began always enters first.
#[test]
fn first_come_first_served_twice_bounded() {
    Model::new(
        "Peterson FIFO audit, 2 participants x 2 acquisitions",
        Bound::Preemptions(LockBounds::default().two_twice),
        || {
            let report = harness::fifo_audit(Peterson::new(), 2, 2);
            assert_eq!(report.overtakes, 0, "{report:?}");
        },
    )
    .check();
}
