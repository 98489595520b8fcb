//! `lock_api::Mutex` over doorway's locks, tested exactly as
//! `parking_lot::Mutex` is: one suite written against `lock_api::RawMutex`,
//! instantiated for `parking_lot` as the reference and for each doorway mutex.

#![cfg(all(feature = "lock_api", not(loom)))]

use doorway::raw_mutex::{
    BakeryMutex, PetersonMutex, RawBakery, RawFastBakery, RawPerCore, RawPeterson, RawTicket,
    RawTournament, ThreadId,
};
use lock_api::{MappedMutexGuard, Mutex, MutexGuard, RawMutex};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::Duration;

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

/// The behaviours `parking_lot`'s own `Mutex` tests check (less `Condvar`
/// and serde), asked of any raw mutex in our own words.
mod drop_in {
    use super::*;

    pub fn smoke<R: RawMutex>() {
        let m = Mutex::<R, ()>::new(());
        drop(m.lock());
        drop(m.lock());
    }

    /// More threads than any doorway mutex has seats, not joined but
    /// reporting over a channel. They start together, so that seatless
    /// threads wait for seats from the first acquisition on (under Miri too,
    /// whose run is shorter).
    pub fn lots_and_lots<R: RawMutex + Send + Sync + 'static>() {
        const PER_THREAD: u32 = if cfg!(miri) { 100 } else { 1000 };
        const THREADS: u32 = 6;
        let m = Arc::new(Mutex::<R, u32>::new(0));
        let start = Arc::new(Barrier::new(THREADS as usize));
        let (done, finished) = mpsc::channel();
        for _ in 0..THREADS {
            let (m, start, done) = (m.clone(), start.clone(), done.clone());
            std::thread::spawn(move || {
                start.wait();
                for _ in 0..PER_THREAD {
                    *m.lock() += 1;
                }
                done.send(()).unwrap();
            });
        }
        for _ in 0..THREADS {
            finished.recv().unwrap();
        }
        assert_eq!(*m.lock(), THREADS * PER_THREAD);
    }

    /// `try_lock` by the holder itself returns `None`, as in `parking_lot`.
    pub fn try_lock<R: RawMutex>() {
        let m = Mutex::<R, ()>::new(());
        let guard = m.try_lock().unwrap();
        assert!(m.try_lock().is_none());
        drop(guard);
        assert!(m.try_lock().is_some());
    }

    pub fn into_inner_and_get_mut<R: RawMutex>() {
        let mut m = Mutex::<R, Vec<i32>>::new(vec![10]);
        m.get_mut().push(20);
        assert_eq!(m.into_inner(), [10, 20]);
    }

    pub fn into_inner_drops_once<R: RawMutex>() {
        struct Counted(Arc<AtomicUsize>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let m = Mutex::<R, Counted>::new(Counted(drops.clone()));
        let inner = m.into_inner();
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(inner);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    /// A mutex inside a mutex, each locked by another thread.
    pub fn nested<R: RawMutex + Send + Sync + 'static>() {
        let inner = Arc::new(Mutex::<R, i32>::new(1));
        let outer = Arc::new(Mutex::<R, Arc<Mutex<R, i32>>>::new(inner));
        std::thread::spawn(move || {
            let outer = outer.lock();
            assert_eq!(*outer.lock(), 1);
        })
        .join()
        .unwrap();
    }

    /// A destructor that runs while its thread unwinds can lock.
    pub fn access_in_unwind<R: RawMutex + Send + Sync + 'static>() {
        let m = Arc::new(Mutex::<R, i32>::new(1));
        let m2 = m.clone();
        let unwound = std::thread::spawn(move || {
            struct Unwinder<R: RawMutex>(Arc<Mutex<R, i32>>);
            impl<R: RawMutex> Drop for Unwinder<R> {
                fn drop(&mut self) {
                    *self.0.lock() += 1;
                }
            }
            let _unwinder = Unwinder(m2);
            panic!("unwinding on purpose");
        })
        .join();
        assert!(unwound.is_err());
        assert_eq!(*m.lock(), 2);
    }

    pub fn unsized_data<R: RawMutex>() {
        let m: &Mutex<R, [i32]> = &Mutex::new([1, 2, 3]);
        {
            let data = &mut *m.lock();
            data[0] = 4;
            data[2] = 5;
        }
        assert_eq!(&*m.lock(), &[4, 2, 5]);
    }

    /// `Debug` reads through `try_lock`: the data when free, `<locked>`
    /// while held, by the formatting thread itself included.
    pub fn debug<R: RawMutex>() {
        let m = Mutex::<R, Vec<u8>>::new(vec![0, 10]);
        assert_eq!(format!("{m:?}"), "Mutex { data: [0, 10] }");
        let _held = m.lock();
        assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
    }

    pub fn guards_are_sync<R: RawMutex + Sync>()
    where
        R::Guard: Sync,
    {
        fn sync<T: Sync>(_: T) {}
        let m = Mutex::<R, ()>::new(());
        sync(m.lock());
    }

    /// `try_map_or_err` hands the guard back on error, mapped or not.
    pub fn map_or_err<R: RawMutex>() {
        let m = Mutex::<R, HashMap<&str, String>>::new(HashMap::from([("k", "v".to_string())]));
        let guard = match MutexGuard::try_map_or_err(m.lock(), |map| map.get_mut("x").ok_or(7)) {
            Ok(_) => panic!("mapped a missing key"),
            Err((guard, error)) => {
                assert_eq!(error, 7);
                guard
            }
        };
        let mapped = MutexGuard::try_map_or_err(guard, |map| map.get_mut("k").ok_or(0))
            .unwrap_or_else(|_| panic!("the key is there"));
        assert_eq!(mapped.as_str(), "v");
        match MappedMutexGuard::try_map_or_err(mapped, |s| {
            if s == "v" { Err(9) } else { Ok(s.as_mut_str()) }
        }) {
            Ok(_) => panic!("mapped on the wrong branch"),
            Err((mapped, error)) => assert_eq!((mapped.as_str(), error), ("v", 9)),
        }
    }
}

/// The suite, for one raw mutex; `fair` adds the `RawMutexFair` checks and
/// `timed` the `RawMutexTimed` ones.
macro_rules! mutex_suite {
    ($name:ident: $raw:ty, threads: $threads:expr $(, $extra:ident)*) => {
        mod $name {
            use super::*;

            #[test]
            fn counter_is_exact_from_many_threads() {
                counter_is_exact::<$raw>(if cfg!(miri) { 3 } else { $threads });
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

            #[test]
            fn drop_in_smoke() {
                drop_in::smoke::<$raw>();
            }

            #[test]
            fn drop_in_lots_and_lots() {
                drop_in::lots_and_lots::<$raw>();
            }

            #[test]
            fn drop_in_try_lock() {
                drop_in::try_lock::<$raw>();
            }

            #[test]
            fn drop_in_into_inner_and_get_mut() {
                drop_in::into_inner_and_get_mut::<$raw>();
                drop_in::into_inner_drops_once::<$raw>();
            }

            #[test]
            fn drop_in_nested() {
                drop_in::nested::<$raw>();
            }

            #[test]
            fn drop_in_access_in_unwind() {
                drop_in::access_in_unwind::<$raw>();
            }

            #[test]
            fn drop_in_unsized_data() {
                drop_in::unsized_data::<$raw>();
            }

            #[test]
            fn drop_in_debug() {
                drop_in::debug::<$raw>();
            }

            #[test]
            fn drop_in_guards_are_sync() {
                drop_in::guards_are_sync::<$raw>();
            }

            #[test]
            fn drop_in_map_or_err() {
                drop_in::map_or_err::<$raw>();
            }

            $(mutex_suite!(@$extra $raw);)*
        }
    };
    (@fair $raw:ty) => {
        #[test]
        fn fair_unlock_and_bump_work() {
            super::fair_unlock_and_bump_work::<$raw>();
        }
    };
    (@timed $raw:ty) => {
        #[test]
        fn timed_locking_times_out_then_succeeds() {
            super::timed_locking_times_out_then_succeeds::<$raw>();
        }
    };
}

#[cfg(not(miri))] // Miri looks for undefined behaviour in doorway, not in parking_lot
mutex_suite!(parking_lot_reference: parking_lot::RawMutex, threads: 8, fair, timed);
mutex_suite!(bakery_4: RawBakery<4>, threads: 8, fair, timed);
mutex_suite!(bakery_2: RawBakery<2>, threads: 8, fair, timed);
mutex_suite!(peterson: RawPeterson, threads: 8, fair, timed);
mutex_suite!(percore_4: RawPerCore<4>, threads: 8, fair, timed);
mutex_suite!(ticket: RawTicket, threads: 8, fair);
mutex_suite!(tournament_4: RawTournament<4>, threads: 8, timed);
mutex_suite!(fastbakery_4: RawFastBakery<4>, threads: 8, timed);

/// `try_lock_for` times out while another thread holds the mutex, then
/// succeeds once it is released.
fn timed_locking_times_out_then_succeeds<R: lock_api::RawMutexTimed<Duration = Duration> + Sync>() {
    let mutex = Mutex::<R, u32>::new(0);
    let held = mutex.lock();
    std::thread::scope(|s| {
        s.spawn(|| assert!(mutex.try_lock_for(Duration::from_millis(10)).is_none()));
    });
    drop(held);
    std::thread::scope(|s| {
        s.spawn(|| {
            *mutex
                .try_lock_for(Duration::from_secs(60))
                .expect("released") += 1
        });
    });
    assert_eq!(*mutex.lock(), 1);
    assert!(!mutex.is_locked(), "a timed-out waiter left a trace");
}

#[test]
#[should_panic(expected = "re-entry")]
fn reentry_panics_instead_of_deadlocking() {
    let mutex = BakeryMutex::<2, ()>::new(());
    let _held = mutex.lock();
    let _again = mutex.lock();
}

/// The ticket lock has no seats (it ignores who calls), so a seated mutex
/// over it is refused at its first lock, where it would wait forever.
#[test]
#[should_panic(expected = "has no seats")]
fn a_seated_mutex_over_the_ticket_lock_is_refused() {
    let mutex = Mutex::<doorway::raw_mutex::RawSeated<doorway::ticket::Ticket>, u32>::new(0);
    *mutex.lock() += 1;
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

/// A reentrant mutex over the bakery, with doorway's thread ids.
#[test]
fn a_reentrant_bakery_mutex_reenters_and_excludes() {
    type ReentrantMutex<T> = lock_api::ReentrantMutex<RawBakery<2>, ThreadId, T>;
    let counter = ReentrantMutex::new(std::cell::Cell::new(0u64));
    let rounds = if cfg!(miri) { 20 } else { 5_000 };
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..rounds {
                    let outer = counter.lock();
                    let inner = counter.lock();
                    inner.set(inner.get() + 1);
                    drop(inner);
                    outer.set(outer.get() + 1);
                }
            });
        }
    });
    assert_eq!(counter.lock().get(), 4 * 2 * rounds);
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
        for i in 0..16 {
            s.spawn(move || {
                BAKERY.lock().push(i);
                *TICKET.lock() += 1;
            });
        }
    });
    assert_eq!(BAKERY.lock().len(), 16);
    assert_eq!(*TICKET.lock(), 16);
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
