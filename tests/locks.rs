//! Every lock, tested on real threads by one suite written against the shared
//! traits and instantiated per lock with one line at the bottom of this file.
//!
//! The counts shrink under Miri, which runs the same tests to look for data
//! races and undefined behaviour rather than for lost increments.

#![cfg(not(loom))]

use doorway::harness;

/// Acquisitions per thread in the stress tests.
const ROUNDS: usize = if cfg!(miri) { 30 } else { 20_000 };

/// Threads that contend in the stress tests (at most the lock's participants).
fn threads_for(participants: usize) -> usize {
    participants.min(if cfg!(miri) { 3 } else { 4 })
}

/// The suite every [`doorway::RawLock`] passes.
macro_rules! raw_lock_suite {
    ($name:ident: $lock:ty, participants: $n:expr) => {
        mod $name {
            use super::*;
            use doorway::{Lock, RawLock};

            type L = $lock;

            #[test]
            fn counter_is_exact_under_contention() {
                harness::mutual_exclusion(L::default(), threads_for($n), ROUNDS);
            }

            #[test]
            fn counter_is_exact_with_try_lock_against_lock() {
                harness::try_lock_exclusion(L::default(), threads_for($n), ROUNDS / 4, 64);
            }

            #[test]
            fn try_lock_fails_while_another_participant_holds() {
                let lock = L::default();
                // SAFETY: participants 0 and 1 are used by this thread only, in turn.
                unsafe {
                    lock.lock(0);
                    assert!(lock.is_locked());
                    assert!(
                        !lock.try_lock(1),
                        "try_lock succeeded while participant 0 holds"
                    );
                    lock.unlock(0);
                    assert!(!lock.is_locked(), "a failed try_lock left the lock held");
                    assert!(lock.try_lock(1), "try_lock failed on a free lock");
                    lock.unlock(1);
                }
                assert!(!lock.is_locked());
            }

            #[test]
            fn participants_share_one_counter() {
                let mut counter = Lock::<L, u64>::new(0);
                let rounds = ROUNDS as u64;
                std::thread::scope(|s| {
                    for mut participant in counter.participants::<2>() {
                        s.spawn(move || {
                            for _ in 0..rounds {
                                *participant.lock() += 1;
                            }
                        });
                    }
                });
                assert_eq!(counter.into_inner(), 2 * rounds);
            }

            #[test]
            fn threads_claim_participants_on_first_use() {
                let counter = Lock::<L, u64>::new(0);
                let threads = threads_for($n);
                let rounds = ROUNDS as u64;
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| (0..rounds).for_each(|_| *counter.lock() += 1));
                    }
                });
                assert_eq!(*counter.lock(), threads as u64 * rounds);
            }

            #[test]
            fn exited_threads_give_their_participants_back() {
                let counter = Lock::<L, u64>::new(0);
                let generations = 3 * $n;
                for _ in 0..generations {
                    std::thread::scope(|s| {
                        s.spawn(|| *counter.lock() += 1);
                    });
                }
                assert_eq!(*counter.lock(), generations as u64);
            }

            #[test]
            fn try_lock_through_the_thread_participant() {
                let lock = Lock::<L, u32>::new(7);
                let guard = lock.try_lock().expect("free lock");
                assert_eq!(*guard, 7);
                std::thread::scope(|s| {
                    s.spawn(|| assert!(lock.try_lock().is_none(), "try_lock while held"));
                });
                drop(guard);
                assert!(!lock.is_locked());
            }
        }
    };
}

/// The extra suite every [`doorway::FifoLock`] passes.
macro_rules! fifo_lock_suite {
    ($name:ident: $lock:ty, participants: $n:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn nobody_overtakes_an_earlier_doorway() {
                let report = harness::fifo_audit(<$lock>::default(), threads_for($n), ROUNDS / 4);
                assert_eq!(
                    report.overtakes, 0,
                    "{} of {} acquisitions overtook an earlier doorway; first: {:?}",
                    report.overtakes, report.visits, report.first_overtake
                );
            }
        }
    };
}

/// Capacity and identity checks for locks with a bounded set of participants
/// (whose per-participant registers also let them see re-entry).
macro_rules! bounded_participants_suite {
    ($name:ident: $lock:ty, participants: $n:expr) => {
        mod $name {
            use doorway::Lock;
            use std::sync::Barrier;

            #[test]
            fn a_thread_beyond_capacity_gets_a_clear_panic() {
                let lock = Lock::<$lock, ()>::new(());
                let holders = Barrier::new($n + 1);
                std::thread::scope(|s| {
                    for _ in 0..$n {
                        s.spawn(|| {
                            drop(lock.lock());
                            holders.wait(); // seat claimed
                            holders.wait(); // released by the main thread
                        });
                    }
                    holders.wait();
                    let extra = s.spawn(|| drop(lock.lock())).join();
                    holders.wait();
                    let message = *extra
                        .expect_err("a thread beyond capacity locked")
                        .downcast::<String>()
                        .expect("a formatted panic message");
                    let capacity = format!("has {} participant slots", $n);
                    assert!(message.contains(&capacity), "unclear panic: {message}");
                });
            }

            #[test]
            #[should_panic(expected = "re-entry")]
            fn reentry_through_the_thread_participant_panics() {
                let lock = Lock::<$lock, ()>::new(());
                let _held = lock.lock();
                let _again = lock.lock();
            }

            #[test]
            #[should_panic(expected = "out of range")]
            fn an_out_of_range_participant_panics() {
                let lock = Lock::<$lock, ()>::new(());
                // SAFETY: no other participant exists; the call must panic anyway.
                let _ = unsafe { lock.participant_unchecked($n) };
            }
        }
    };
}

raw_lock_suite!(bakery_2: doorway::Bakery<2>, participants: 2);
raw_lock_suite!(bakery_4: doorway::Bakery<4>, participants: 4);
fifo_lock_suite!(bakery_4_fifo: doorway::Bakery<4>, participants: 4);
bounded_participants_suite!(bakery_3_capacity: doorway::Bakery<3>, participants: 3);
raw_lock_suite!(percore_2: doorway::PerCore<2>, participants: 2);
raw_lock_suite!(percore_4: doorway::PerCore<4>, participants: 4);
fifo_lock_suite!(percore_4_fifo: doorway::PerCore<4>, participants: 4);
bounded_participants_suite!(percore_3_capacity: doorway::PerCore<3>, participants: 3);
raw_lock_suite!(peterson: doorway::Peterson, participants: 2);
fifo_lock_suite!(peterson_fifo: doorway::Peterson, participants: 2);
bounded_participants_suite!(peterson_capacity: doorway::Peterson, participants: 2);
// The ticket lock admits any number of threads; its suites run four.
raw_lock_suite!(ticket: doorway::TicketLock, participants: 4);
fifo_lock_suite!(ticket_fifo: doorway::TicketLock, participants: 4);
raw_lock_suite!(tournament_4: doorway::Tournament<4>, participants: 4);
bounded_participants_suite!(tournament_4_capacity: doorway::Tournament<4>, participants: 4);
