//! Loom models of Lamport's bakery lock.
#![cfg(loom)]

use doorway::bakery::Bakery;
use doorway_loom_tests::{Bound, LockBounds, Model, harness};

doorway_loom_tests::lock_models! {
    name: "Bakery",
    two: || Bakery::<2>::new(),
    three: || Bakery::<3>::new(),
    bounds: LockBounds::default(),
    fences: &doorway::bakery::FENCES,
    orderings: &doorway::bakery::ORDERINGS,
}

/// Tickets capped at 1: every arrival that finds a ticket in use steps out of
/// the doorway and waits for the bakery to drain, then numbers from 1 again.
#[test]
fn ticket_limit_one_two_participants_exhaustive() {
    Model::new(
        "Bakery<2> tickets capped at 1, 2 participants x 1 acquisition",
        Bound::Exhaustive,
        || harness::mutual_exclusion(Bakery::<2>::with_ticket_limit(1), 2, 1),
    )
    .check();
}

/// Tickets capped at 2, two acquisitions each: tickets climb to the cap,
/// arrivals wait at the doorway, and numbering restarts.
#[test]
fn ticket_limit_two_two_participants_twice_bounded() {
    Model::new(
        "Bakery<2> tickets capped at 2, 2 participants x 2 acquisitions",
        Bound::Preemptions(LockBounds::default().two_twice),
        || harness::mutual_exclusion(Bakery::<2>::with_ticket_limit(2), 2, 2),
    )
    .check();
}
