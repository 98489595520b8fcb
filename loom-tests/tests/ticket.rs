//! Loom models of the ticket lock.
//!
//! It has no fences, so the standard fence check only confirms that the
//! models execute none; its counters start just below the wrap point in the
//! wrap-around models.
#![cfg(loom)]

use doorway::ticket::Ticket;
use doorway_loom_tests::{Bound, LockBounds, Model, harness};

/// The ticket lock's models are cheap next to the bakery's (one counter to
/// wait on, no doorway to interleave), so the three-participant model goes
/// one preemption deeper.
const BOUNDS: LockBounds = LockBounds {
    two_twice: 4,
    three_once: 3,
    three_once_spin_cap: 16,
    three_twice: 1,
};

doorway_loom_tests::lock_models! {
    name: "Ticket",
    two: || Ticket::new(),
    three: || Ticket::new(),
    bounds: BOUNDS,
    fences: &doorway::ticket::FENCES,
    orderings: &doorway::ticket::ORDERINGS,
}

/// Two acquisitions each from the last ticket before the wrap: tickets
/// `u32::MAX`, 0, 1 and 2 are handed out and served in turn.
#[test]
fn wrap_around_two_participants_twice_exhaustive() {
    Model::new(
        "Ticket from u32::MAX, 2 participants x 2 acquisitions",
        Bound::Exhaustive,
        || harness::mutual_exclusion(Ticket::starting_at(u32::MAX), 2, 2),
    )
    .check();
}

/// `try_lock` against `lock` across the wrap: a failed `try_lock` must not
/// take ticket 0 while `u32::MAX` is held.
#[test]
fn wrap_around_try_lock_against_lock_exhaustive() {
    Model::new(
        "Ticket from u32::MAX, lock vs 2 try_locks",
        Bound::Exhaustive,
        || harness::try_lock_exclusion(Ticket::starting_at(u32::MAX), 2, 1, 2),
    )
    .check();
}

/// First come, first served, three participants.
#[test]
fn first_come_first_served_three_participants_bounded() {
    Model::new(
        "Ticket FIFO audit, 3 participants x 1 acquisition",
        Bound::Preemptions(2),
        || {
            let report = harness::fifo_audit(Ticket::new(), 3, 1);
            assert_eq!(report.overtakes, 0, "{report:?}");
        },
    )
    .spin_cap(8)
    .check();
}
