//! Loom models of thread seats: `Lock::lock` from loom threads, a seat handed
//! over between threads, two sitters and a taker, the seat orderings, and
//! waiters that withdraw (timed locking) keeping exclusion and FIFO among
//! those who stay.
//!
//! Every seat carries, in these builds only, a sitter cell loom checks: each
//! sitter writes it on taking the seat and reads it on giving it back, so a
//! register written by a thread that no longer holds its seat shows up as a
//! causality violation.
#![cfg(loom)]

use doorway::{bakery::Bakery, percore::PerCore, peterson::Peterson, tournament::Tournament};
use doorway_loom_tests::{Bound, Model, Passing, harness};

/// Two threads on one seat: every acquisition takes the seat the other left.
fn one_seat_two_threads() -> Model {
    Model::new(
        "seats: Bakery<1>, 2 threads x 1 acquisition (seat handed over)",
        Bound::Exhaustive,
        || harness::seated_exclusion(Bakery::<1>::new(), 2, 1),
    )
}

/// Two threads keep their seats of a `Bakery<2>` across two acquisitions.
#[test]
fn two_sitters_twice_bounded() {
    Model::new(
        "seats: Bakery<2>, 2 threads x 2 acquisitions",
        Bound::Preemptions(3),
        || harness::seated_exclusion(Bakery::<2>::new(), 2, 2),
    )
    .check();
}

/// Two sitters and a taker: three threads, two seats. Bound 1 explores every
/// schedule with one preemption; bound 2 is beyond CI's budget.
#[test]
fn two_sitters_and_a_taker_bounded() {
    Model::new(
        "seats: Bakery<2>, 3 threads x 1 acquisition (a taker waits)",
        Bound::Preemptions(1),
        || harness::seated_exclusion(Bakery::<2>::new(), 3, 1),
    )
    .spin_cap(8)
    .check();
}

/// The same handover on the other seated locks.
#[test]
fn seats_of_every_seated_lock_exhaustive() {
    Model::new(
        "seats: PerCore<1>, 2 threads x 1",
        Bound::Exhaustive,
        || harness::seated_exclusion(PerCore::<1>::new(), 2, 1),
    )
    .check();
    // Three threads on two seats: a taker waits. At bound 2 (spin cap 8)
    // each took about 9 minutes on the 2-core machine.
    Model::new(
        "seats: Peterson, 3 threads x 1",
        Bound::Preemptions(1),
        || harness::seated_exclusion(Peterson::new(), 3, 1),
    )
    .spin_cap(8)
    .check();
    Model::new(
        "seats: Tournament<2>, 3 threads x 1",
        Bound::Preemptions(1),
        || harness::seated_exclusion(Tournament::<2>::new(), 3, 1),
    )
    .spin_cap(8)
    .check();
}

/// A seat handed over passes; weakening the seat's compare-and-swap or its
/// give-back lets two sitters' turns overlap.
#[test]
fn a_seat_is_handed_over_and_every_seat_ordering_is_necessary() {
    Passing::check(vec![one_seat_two_threads()])
        .every_ordering_is_necessary(&doorway::seats::ORDERINGS, &[]);
}

/// A waiter that gives up after a few looks, against a participant that
/// stays: exclusion, no trace left, FIFO among those who stay.
fn withdrawal<R>(name: &str, lock: fn() -> R, threads: usize, bound: Bound) -> Model
where
    R: doorway::FifoLock + doorway::Withdraw + Send + 'static,
{
    Model::new(format!("withdrawal: {name}"), bound, move || {
        let report = harness::withdrawal_audit(lock(), threads, 1, 2);
        assert_eq!(report.overtakes, 0, "{report:?}");
    })
}

#[test]
fn withdrawal_keeps_exclusion_and_order_exhaustive() {
    withdrawal(
        "Bakery<2>, 2 participants",
        Bakery::<2>::new,
        2,
        Bound::Exhaustive,
    )
    .check();
    withdrawal(
        "PerCore<2>, 2 participants",
        PerCore::<2>::new,
        2,
        Bound::Exhaustive,
    )
    .check();
    withdrawal(
        "Peterson, 2 participants",
        Peterson::new,
        2,
        Bound::Exhaustive,
    )
    .check();
}

#[test]
fn withdrawal_with_two_who_stay_bounded() {
    withdrawal(
        "Bakery<3>, 3 participants",
        Bakery::<3>::new,
        3,
        Bound::Preemptions(2),
    )
    .spin_cap(8)
    .check();
    withdrawal(
        "PerCore<3>, 3 participants",
        PerCore::<3>::new,
        3,
        Bound::Preemptions(2),
    )
    .spin_cap(8)
    .check();
}
