//! Loom models of the per-core bakery: the standard lock models, the ticket
//! bound (Taubenfeld's `N` with `lock` alone, and the field limit, started at
//! 1 so that models reach it), and first come, first served across batches.
//!
//! Besides the fence mutations below, every model with two acquisitions per
//! core catches a `Relaxed` store of the `choosing` word, whose release edge a
//! waiter needs when it passes on that word's zero ticket.
#![cfg(loom)]

use doorway::percore::PerCore;
use doorway_loom_tests::{Bound, LockBounds, Model, harness};

doorway_loom_tests::lock_models! {
    name: "PerCore",
    two: || PerCore::<2>::new(),
    three: || PerCore::<3>::new(),
    bounds: LockBounds::default(),
    fences: &doorway::percore::FENCES,
    orderings: &doorway::percore::ORDERINGS,
    also: vec![color_turns_twice_against_a_doorway()],
}

/// Three cores, the ticket bound asserted: core 0 locks once, cores 1 and 2
/// twice. When core 2's second doorway reads a color that core 1 turned, it
/// must also see that core 0 has left; otherwise it pairs the newest color
/// with core 0's stale ticket of 3 from the previous batch of that color and
/// takes ticket 4 (invariant 4). Weakening the doorway's color load or the
/// exit's color store lets that happen. (It runs, and must pass, first in
/// the sweep of `lock_models!`.)
fn color_turns_twice_against_a_doorway() -> Model {
    Model::new(
        "PerCore<3> asserting tickets <= 3, the color turns twice (1, 2, 2 acquisitions)",
        Bound::Preemptions(2),
        || {
            harness::mutual_exclusion_rounds(
                PerCore::<3>::asserting_tickets_within_cores(),
                &[1, 2, 2],
            )
        },
    )
    .spin_cap(4)
    // The two-participant models never turn the color twice.
    .tried_first_for(&[
        "percore: doorway reads the color",
        "percore: exit turns the color",
    ])
}

/// Tickets capped at 1: an arrival that finds a ticket in its batch steps out
/// of the doorway and waits for it to drain, then starts again.
#[test]
fn ticket_limit_one_two_cores_exhaustive() {
    Model::new(
        "PerCore<2> tickets capped at 1, 2 cores x 1 acquisition",
        Bound::Exhaustive,
        || harness::mutual_exclusion(PerCore::<2>::with_ticket_limit(1), 2, 1),
    )
    .check();
}

/// Tickets capped at 1, two acquisitions each: batches change color while
/// arrivals step out of the doorway and come back.
#[test]
fn ticket_limit_one_two_cores_twice_bounded() {
    Model::new(
        "PerCore<2> tickets capped at 1, 2 cores x 2 acquisitions",
        Bound::Preemptions(3),
        || harness::mutual_exclusion(PerCore::<2>::with_ticket_limit(1), 2, 2),
    )
    .check();
}

/// Tickets capped at 1 against `try_lock`: a try that finds the limit fails
/// at once instead of waiting.
#[test]
fn ticket_limit_one_try_lock_against_lock_bounded() {
    Model::new(
        "PerCore<2> tickets capped at 1, lock vs 2 try_locks",
        Bound::Preemptions(4),
        || harness::try_lock_exclusion(PerCore::<2>::with_ticket_limit(1), 2, 1, 2),
    )
    .check();
}

/// Taubenfeld's bound with `lock` alone: no doorway ever finds a ticket of
/// `N` in its batch (the lock panics if one does), across three batches.
#[test]
fn tickets_stay_within_two_cores_three_acquisitions_bounded() {
    Model::new(
        "PerCore<2> asserting tickets <= 2, 2 cores x 3 acquisitions",
        Bound::Preemptions(2),
        || harness::mutual_exclusion(PerCore::<2>::asserting_tickets_within_cores(), 2, 3),
    )
    .check();
}

/// Taubenfeld's bound with three cores.
#[test]
fn tickets_stay_within_three_cores_twice_bounded() {
    Model::new(
        "PerCore<3> asserting tickets <= 3, 3 cores x 2 acquisitions",
        Bound::Preemptions(1),
        || harness::mutual_exclusion(PerCore::<3>::asserting_tickets_within_cores(), 3, 2),
    )
    .check();
}

/// First come, first served across batches: a core that leaves and comes
/// back joins the next batch, and must not enter ahead of the core whose
/// doorway finished, in the old batch, before it came back.
#[test]
fn first_come_first_served_two_cores_twice_bounded() {
    Model::new(
        "PerCore<2> FIFO audit, 2 cores x 2 acquisitions",
        Bound::Preemptions(3),
        || {
            let report = harness::fifo_audit(PerCore::<2>::new(), 2, 2);
            assert_eq!(report.overtakes, 0, "{report:?}");
        },
    )
    .check();
}
