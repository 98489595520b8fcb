//! Loom models of the sleeping protocol: a waiter that goes to sleep and the
//! participant whose move wakes it must never miss each other.
//!
//! A lost wakeup is a store-buffering race between "I am going to sleep"
//! and "the lock is free". In these models a sleep blocks the loom thread
//! on a model of the futex until it is woken, so a wakeup the protocol loses
//! leaves a thread blocked for good, which loom reports as a deadlock; a
//! model fails on it.
//!
//! - **The protocol alone**: a sleeper waits for a turn word, a mover sets
//!   it and wakes; the very functions the locks call.
//! - **Every lock, sleeping**: each lock's two-participant model with every
//!   wait sleeping at its first turn, so that each wait goes through the
//!   protocol (the bakery family sleeping behind the participant just ahead,
//!   the fast bakery's slow side on the gate, Peterson's and the
//!   tournament's duels, the ticket lock's lobby, seatless threads in the
//!   seats' lobby, a waiter that withdraws).
//! - **The sweep**: each of the protocol's four fences removed, then
//!   weakened, must make some model lose a wakeup.
#![cfg(loom)]

use doorway::__private::SLEEP_FENCES;
use doorway::__private::sleep::Pair;
use doorway::{
    bakery::Bakery, fastbakery::FastBakery, percore::PerCore, peterson::Peterson, ticket::Ticket,
    tournament::Tournament,
};
use doorway_loom_tests::{Bound, Model, Passing, harness};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicU32, Ordering::*};
use loom::thread;

/// Participant 1 sleeps until participant 0 gives it the turn; participant 0
/// gives it, then wakes whoever sleeps on it.
fn protocol() {
    let pair = Arc::new(Pair::new());
    let turn = Arc::new(AtomicU32::new(0));
    let mover = {
        let (pair, turn) = (Arc::clone(&pair), Arc::clone(&turn));
        thread::spawn(move || {
            turn.store(1, Release);
            pair.wake_sleepers_on(0);
        })
    };
    while turn.load(Acquire) == 0 {
        pair.sleep(1, 0, || turn.load(Acquire) == 0);
    }
    mover.join().unwrap();
}

/// The bound of the lock models, from the environment for measuring
/// (`SLEEP_BOUND`).
fn bound() -> usize {
    std::env::var("SLEEP_BOUND")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(3)
}

fn models() -> Vec<Model> {
    let exhaustive = Bound::Exhaustive;
    let bounded = Bound::Preemptions(bound());
    vec![
        // `sleeping`: the protocol's sleeps are explicit here, but the mover
        // fences only in a model where waiters may sleep, as on threads.
        Model::new("sleep: the protocol alone", exhaustive, protocol).sleeping(),
        Model::new("sleep: Peterson 2 x 2, every wait asleep", bounded, || {
            harness::mutual_exclusion(Peterson::new(), 2, 2)
        })
        .sleeping(),
        Model::new("sleep: Bakery<2> 2 x 2, every wait asleep", bounded, || {
            harness::mutual_exclusion(Bakery::<2>::new(), 2, 2)
        })
        .sleeping(),
        Model::new(
            "sleep: PerCore<2> 2 x 2, every wait asleep",
            bounded,
            || harness::mutual_exclusion(PerCore::<2>::new(), 2, 2),
        )
        .sleeping(),
        Model::new(
            "sleep: FastBakery<2> 2 x 2, every wait asleep",
            bounded,
            || harness::mutual_exclusion(FastBakery::<2>::new(), 2, 2),
        )
        .sleeping(),
        Model::new(
            "sleep: Tournament<2> 2 x 2, every wait asleep",
            bounded,
            || harness::mutual_exclusion(Tournament::<2>::new(), 2, 2),
        )
        .sleeping(),
        Model::new(
            "sleep: Ticket 2 x 2, every wait asleep (lobby)",
            bounded,
            || harness::mutual_exclusion(Ticket::new(), 2, 2),
        )
        .sleeping(),
        Model::new(
            "sleep: Bakery<1>, 2 threads x 1 on one seat, asleep for it (lobby)",
            bounded,
            || harness::seated_exclusion(Bakery::<1>::new(), 2, 1),
        )
        .sleeping(),
        Model::new(
            "sleep: Bakery<2>, a waiter that withdraws after 2 looks, asleep",
            bounded,
            || harness::withdrawal_exclusion(Bakery::<2>::new(), 2),
        )
        .sleeping(),
    ]
}

#[test]
fn no_wakeup_is_lost_and_every_fence_is_necessary() {
    Passing::check(models()).every_fence_is_necessary(&SLEEP_FENCES);
}
