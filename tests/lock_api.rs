//! `lock_api::Mutex` over doorway's locks, tested exactly as
//! `parking_lot::Mutex` is: one suite written against `lock_api::RawMutex`,
//! instantiated for `parking_lot` as the reference and for each doorway mutex.

#![cfg(all(feature = "lock_api", not(loom)))]

use doorway::raw_mutex::{
    BakeryMutex, PetersonMutex, RawBakery, RawPerCore, RawPeterson, RawTicket, RawTournament,
};
use lock_api::{Mutex, MutexGuard, RawMutex};
use std::sync::Barrier;

/// Acquisitions per thread.
const ROUNDS: u64 = if cfg!(miri) { 30 } else { 20_000 };

/// A read, then a separate write: the increment the mutex must make atomic.
/// A few spin hints between the two widen the window in which a lapse of
/// exclusion loses an update.
fn increment(counter: &mut u64) {
    let ptr: *mut u64 = counter;
    // SAFETY: `ptr` comes from a live `&mut u64`. Volatile keeps the read and
    // the write apart.
    unsafe {
        let seen = ptr.read_volatile();
        (0..WINDOW).for_each(|_| std::hint::spin_loop());
        ptr.write_volatile(seen + 1);
    }
}

/// Spin hints between the read and the write of `increment`.
const WINDOW: usize = if cfg!(miri) { 0 } else { 16 };

/// `threads` threads lock `ROUNDS` times each, every other time through
/// `try_lock` until it succeeds (yielding between tries, as a client that
/// has other work would); the counter must end exact.
fn counter_is_exact<R: RawMutex + Sync>(threads: usize) {
    let counter = Mutex::<R, u64>::new(0);
    // All threads start together, or the first could finish before the last
    // has started, and nothing would contend.
    let start = Barrier::new(threads);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                start.wait();
                for round in 0..ROUNDS {
                    let mut guard = if round % 2 == 0 {
                        counter.lock()
                    } else {
                        loop {
                            if let Some(guard) = counter.try_lock() {
                                break guard;
                            }
                            std::thread::yield_now();
                        }
                    };
                    increment(&mut guard);
                }
            });
        }
    });
    assert!(!counter.is_locked(), "locked after every guard is gone");
    assert_eq!(counter.into_inner(), threads as u64 * ROUNDS);
}

/// `try_lock` fails while another thread holds the mutex, and succeeds once
/// it lets go.
fn try_lock_respects_the_holder<R: RawMutex + Sync>() {
    let mutex = Mutex::<R, u32>::new(1);
    let held = mutex.lock();
    std::thread::scope(|s| {
        s.spawn(|| assert!(mutex.try_lock().is_none(), "try_lock while held"));
    });
    drop(held);
    std::thread::scope(|s| {
        s.spawn(|| *mutex.try_lock().expect("try_lock on a free mutex") += 1);
    });
    assert_eq!(*mutex.lock(), 2);
}

/// The guard API that `parking_lot` users rely on: mapping, `get_mut`,
/// `into_inner`.
fn guard_api_works<R: RawMutex + Sync>() {
    let mut mutex = Mutex::<R, (u32, String)>::new((0, String::new()));
    {
        let mut name = MutexGuard::map(mutex.lock(), |pair| &mut pair.1);
        name.push_str("doorway");
    }
    mutex.lock().0 = 7;
    mutex.get_mut().0 += 1;
    assert_eq!(mutex.into_inner(), (8, "doorway".to_string()));
}

/// Fair unlocking and `bump`, for the FIFO mutexes.
fn fair_unlock_and_bump_work<R: lock_api::RawMutexFair + Sync>() {
    const BUMPS: u64 = if cfg!(miri) { 5 } else { ROUNDS / 2 };
    let counter = Mutex::<R, u64>::new(0);
    let start = Barrier::new(2);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                start.wait();
                for _ in 0..BUMPS {
                    let mut guard = counter.lock();
                    increment(&mut guard);
                    MutexGuard::bump(&mut guard);
                    increment(&mut guard);
                    MutexGuard::unlock_fair(guard);
                }
            });
        }
    });
    assert_eq!(counter.into_inner(), 2 * 2 * BUMPS);
}

/// Threads come and go, many more over time than the mutex has slots.
fn threads_come_and_go<R: RawMutex + Sync>(generations: usize) {
    let counter = Mutex::<R, u64>::new(0);
    for _ in 0..generations {
        std::thread::scope(|s| {
            s.spawn(|| increment(&mut counter.lock()));
        });
    }
    assert_eq!(counter.into_inner(), generations as u64);
}

/// The suite, for one raw mutex; `fair` adds the `RawMutexFair` checks.
macro_rules! mutex_suite {
    ($name:ident: $raw:ty, threads: $threads:expr, fair) => {
        mutex_suite!(@suite $name, $raw, $threads, {
            #[test]
            fn fair_unlock_and_bump_work() {
                super::fair_unlock_and_bump_work::<$raw>();
            }
        });
    };
    ($name:ident: $raw:ty, threads: $threads:expr) => {
        mutex_suite!(@suite $name, $raw, $threads, {});
    };
    (@suite $name:ident, $raw:ty, $threads:expr, { $($extra:tt)* }) => {
        mod $name {
            use super::*;

            #[test]
            fn counter_is_exact_from_many_threads() {
                counter_is_exact::<$raw>(if cfg!(miri) { 2 } else { $threads });
            }

            #[test]
            fn try_lock_respects_the_holder() {
                super::try_lock_respects_the_holder::<$raw>();
            }

            #[test]
            fn guard_api_works() {
                super::guard_api_works::<$raw>();
            }

            #[test]
            fn threads_come_and_go() {
                super::threads_come_and_go::<$raw>(if cfg!(miri) { 4 } else { 16 });
            }

            $($extra)*
        }
    };
}

#[cfg(not(miri))] // Miri looks for undefined behaviour in doorway, not in parking_lot
mutex_suite!(parking_lot_reference: parking_lot::RawMutex, threads: 4, fair);
mutex_suite!(bakery_4: RawBakery<4>, threads: 4, fair);
#[cfg(not(miri))] // the same code path as `bakery_4` under Miri's two threads
mutex_suite!(bakery_8: RawBakery<8>, threads: 8, fair);
mutex_suite!(peterson: RawPeterson, threads: 2, fair);
mutex_suite!(percore_4: RawPerCore<4>, threads: 4, fair);
mutex_suite!(ticket: RawTicket, threads: 8, fair);
mutex_suite!(tournament_4: RawTournament<4>, threads: 4);

/// `capacity` threads lock `mutex` and stay alive; one more thread then
/// locks it, and must panic with a message that names the capacity.
fn one_thread_too_many<R: RawMutex + Sync>(mutex: &Mutex<R, ()>, capacity: usize) {
    let holders = Barrier::new(capacity + 1);
    std::thread::scope(|s| {
        for _ in 0..capacity {
            s.spawn(|| {
                drop(mutex.lock());
                holders.wait(); // slot claimed
                holders.wait(); // the extra thread has tried
            });
        }
        holders.wait();
        let extra = s.spawn(|| drop(mutex.lock())).join();
        holders.wait();
        let message = *extra
            .expect_err("a thread beyond capacity locked")
            .downcast::<String>()
            .expect("a formatted panic message");
        let expected = format!("has {capacity} participant slots and all are held by live threads");
        assert!(message.contains(&expected), "unclear panic: {message}");
    });
    // The slots came back when their threads exited.
    threads_come_and_go::<R>(capacity + 1);
}

#[test]
fn a_third_thread_on_a_bakery_mutex_of_two_gets_a_clear_panic() {
    one_thread_too_many(&BakeryMutex::<2, ()>::new(()), 2);
}

#[test]
fn a_third_thread_on_a_peterson_mutex_gets_a_clear_panic() {
    one_thread_too_many(&PetersonMutex::<()>::new(()), 2);
}

#[test]
#[should_panic(expected = "re-entry")]
fn reentry_panics_instead_of_deadlocking() {
    let mutex = BakeryMutex::<2, ()>::new(());
    let _held = mutex.lock();
    let _again = mutex.lock();
}

#[test]
fn a_failed_try_lock_holds_nothing() {
    let mutex = PetersonMutex::<u32>::new(0);
    let held = mutex.lock();
    std::thread::scope(|s| {
        s.spawn(|| assert!(mutex.try_lock().is_none(), "try_lock while held"));
    });
    drop(held);
    assert!(!mutex.is_locked());
    *mutex.lock() += 1;
}

/// Guards of the seat-based mutexes stay on their thread (checked by a
/// `compile_fail` doc test); the ticket mutex's guards may travel.
#[test]
fn ticket_guards_may_move_between_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let mutex = doorway::raw_mutex::TicketMutex::<u32>::new(0);
    let guard = mutex.lock();
    assert_send(&guard);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut guard = guard;
            *guard += 1;
        });
    });
    assert_eq!(*mutex.lock(), 1);
}

#[test]
fn statics_work_as_with_parking_lot() {
    static BAKERY: BakeryMutex<4, Vec<u32>> = BakeryMutex::new(Vec::new());
    static TICKET: doorway::raw_mutex::TicketMutex<u32> = doorway::raw_mutex::TicketMutex::new(0);
    std::thread::scope(|s| {
        for i in 0..4 {
            s.spawn(move || {
                BAKERY.lock().push(i);
                *TICKET.lock() += 1;
            });
        }
    });
    assert_eq!(BAKERY.lock().len(), 4);
    assert_eq!(*TICKET.lock(), 4);
}

/// Like `parking_lot`'s guards, seat-holding guards can be shared by
/// reference with other threads (they are `Sync`), only not sent.
#[test]
fn seat_guards_can_be_shared_by_reference() {
    fn assert_sync<T: Sync>(_: &T) {}
    let mutex = BakeryMutex::<2, u32>::new(5);
    let guard = mutex.lock();
    assert_sync(&guard);
    std::thread::scope(|s| {
        s.spawn(|| assert_eq!(*guard, 5));
    });
    drop(guard);
    assert!(!mutex.is_locked());
}
