//! Seats under the ways a drop-in mutex gets used: from thread-local
//! destructors, guards that outlive their thread's other state, leaked
//! guards, seats freed while others wait, and pinned per-core handles.

#![cfg(not(loom))]

use doorway::{Lock, bakery::Bakery, percore::MachinePerCore, percore::PerCore, percore::PinError};
use std::cell::RefCell;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// A per-thread buffer that flushes into a shared lock when its thread exits:
/// locking from a thread-local's destructor must work (std's `Mutex` does).
#[test]
fn a_thread_local_destructor_can_lock() {
    static TOTAL: Lock<Bakery<2>, u64> = Lock::new(0);
    struct Buffer(u64);
    impl Drop for Buffer {
        fn drop(&mut self) {
            *TOTAL.lock() += self.0;
        }
    }
    std::thread_local! {
        static BUFFER: RefCell<Buffer> = const { RefCell::new(Buffer(0)) };
    }
    let threads = if cfg!(miri) { 3 } else { 8 };
    let workers: Vec<_> = (0..threads)
        .map(|_| std::thread::spawn(|| BUFFER.with(|b| b.borrow_mut().0 += 5)))
        .collect();
    for worker in workers {
        worker
            .join()
            .expect("locking from a thread-local destructor");
    }
    assert_eq!(*TOTAL.lock(), 5 * threads);
}

/// A guard kept in a thread-local keeps its seat, and the lock, until the
/// thread's exit drops it; meanwhile others wait, and nobody is handed the
/// held seat.
#[test]
fn a_guard_in_a_thread_local_holds_until_its_thread_exits() {
    static SHARED: Lock<Bakery<1>, u32> = Lock::new(0);
    std::thread_local! {
        static HELD: RefCell<Option<doorway::Guard<'static, Bakery<1>, u32>>> =
            const { RefCell::new(None) };
    }
    let (parked, resume) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let holder = {
        let (parked, resume) = (parked.clone(), resume.clone());
        std::thread::spawn(move || {
            let mut guard = SHARED.lock();
            *guard += 1;
            HELD.with(|held| *held.borrow_mut() = Some(guard));
            parked.wait();
            resume.wait();
            // Exits with the guard still in the thread-local.
        })
    };
    parked.wait();
    let waiter = std::thread::spawn(|| {
        assert!(
            SHARED.try_lock().is_none(),
            "locked past a guard in a thread-local"
        );
        *SHARED.lock() += 1;
    });
    std::thread::sleep(Duration::from_millis(20));
    assert!(
        !waiter.is_finished(),
        "the waiter got in while the guard lived"
    );
    resume.wait();
    holder.join().unwrap();
    waiter
        .join()
        .expect("the waiter locked after the holder's exit");
    assert_eq!(*SHARED.lock(), 2);
}

/// With one seat held, a thread that needs a seat waits, and takes it the
/// moment it is given back.
#[test]
fn a_seat_given_back_during_a_wait_is_taken() {
    let lock = Lock::<Bakery<1>, u32>::new(0);
    let held = lock.lock();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| *lock.lock() += 1);
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished());
        drop(held);
        waiter.join().expect("the waiter took the seat given back");
    });
    assert_eq!(*lock.lock(), 1);
}

/// A pinned per-core handle dropped while another thread waits for a seat
/// gives the seat to it.
#[test]
fn a_dropped_pin_gives_its_seat_to_a_waiter() {
    let lock = Lock::<PerCore<1>, u32>::new(0);
    std::thread::scope(|s| {
        let (pinned_tx, pinned) = mpsc::channel();
        let (release_tx, release) = mpsc::channel::<()>();
        let lock = &lock;
        s.spawn(move || {
            let handle = lock.pin(0);
            pinned_tx.send(handle.is_ok()).unwrap();
            release.recv().unwrap();
            drop(handle);
        });
        if !pinned.recv().unwrap() {
            return; // the machine refused to pin: nothing to test here
        }
        let waiter = s.spawn(move || *lock.lock() += 1);
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "a pinned seat was taken");
        release_tx.send(()).unwrap();
        waiter.join().expect("the waiter took the unpinned seat");
    });
    assert_eq!(*lock.lock(), 1);
}

/// A leaked guard leaves the lock held, as leaking a `MutexGuard` does. The
/// leaking thread alone is told so when it locks again; other threads see a
/// held lock and are never blamed.
#[test]
fn a_leaked_guard_is_reported_to_the_thread_that_leaked_it() {
    let lock = Arc::new(Lock::<Bakery<2>, ()>::new(()));
    let leaker = {
        let lock = lock.clone();
        std::thread::spawn(move || {
            std::mem::forget(lock.lock());
            assert!(lock.try_lock().is_none());
            let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                drop(lock.lock());
            }));
            let message = *again
                .expect_err("locking again after a leak must panic")
                .downcast::<String>()
                .unwrap();
            assert!(message.contains("leaked guard"), "{message}");
        })
    };
    leaker.join().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(
                lock.try_lock().is_none(),
                "the leaked acquisition still holds"
            );
            assert!(lock.try_lock_for(Duration::from_millis(5)).is_none());
        });
    });
}

/// Threads come and go, far more over time than the lock has seats.
#[test]
fn threads_come_and_go() {
    let lock = Lock::<Bakery<2>, u64>::new(0);
    let generations = if cfg!(miri) { 4 } else { 64 };
    for _ in 0..generations {
        std::thread::scope(|s| {
            s.spawn(|| *lock.lock() += 1);
            s.spawn(|| *lock.lock() += 1);
            s.spawn(|| *lock.lock() += 1);
        });
    }
    assert_eq!(lock.into_inner(), 3 * generations);
}

/// Pinning tests pin spawned threads only, never the test runner's.
mod pinned {
    use super::*;

    fn machine_lock<T>(value: T) -> Lock<MachinePerCore, T> {
        Lock::from_raw(MachinePerCore::new(), value)
    }

    #[test]
    fn pinned_workers_share_a_counter() {
        let counter = machine_lock(0u64);
        let cores = counter.raw().cores();
        let rounds = if cfg!(miri) { 20 } else { 20_000 };
        std::thread::scope(|s| {
            for core in 0..cores {
                let counter = &counter;
                s.spawn(move || {
                    let mut me = counter.pin(core).expect("a free core");
                    assert_eq!(me.core(), core);
                    for _ in 0..rounds {
                        let mut guard = me.lock();
                        assert_eq!(guard.index(), core);
                        *guard += 1;
                    }
                });
            }
        });
        assert_eq!(counter.into_inner(), cores as u64 * rounds);
    }

    #[test]
    fn a_core_has_one_pinned_thread_at_a_time() {
        let lock = machine_lock(());
        let pinned = Barrier::new(2);
        let released = Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                let handle = lock.pin(0).expect("core 0 is free");
                pinned.wait();
                released.wait(); // the other thread was refused
                drop(handle);
                pinned.wait();
            });
            pinned.wait();
            let refused = s.spawn(|| lock.pin(0).map(drop)).join().unwrap();
            assert_eq!(refused, Err(PinError::CoreTaken { core: 0 }));
            released.wait();
            pinned.wait(); // the handle is dropped
            let again = s.spawn(|| lock.pin(0).map(drop)).join().unwrap();
            assert_eq!(again, Ok(()), "a dropped handle gave its core back");
        });
    }

    #[test]
    fn a_thread_holds_one_core_per_lock() {
        let lock = Lock::from_raw(MachinePerCore::with_cores(2), ());
        std::thread::scope(|s| {
            s.spawn(|| {
                let _first = lock.pin(0).expect("core 0 is free");
                assert_eq!(
                    lock.pin(1).err(),
                    Some(PinError::AlreadyHolding { held: 0 })
                );
                assert_eq!(
                    lock.pin(0).err(),
                    Some(PinError::AlreadyHolding { held: 0 })
                );
            });
        });
    }

    #[test]
    fn cores_beyond_the_lock_are_refused() {
        let lock = Lock::from_raw(MachinePerCore::with_cores(1), ());
        let refused = std::thread::scope(|s| s.spawn(|| lock.pin(1).err()).join().unwrap());
        assert_eq!(refused, Some(PinError::NoSuchCore { core: 1, cores: 1 }));
        let message = format!("{}", refused.unwrap());
        assert!(message.contains("the lock has 1 cores"), "{message}");
    }

    #[test]
    fn locking_without_the_handle_uses_the_pinned_core() {
        let lock = machine_lock(0u32);
        let core = lock.raw().cores() - 1;
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut handle = lock.pin(core).expect("a free core");
                assert_eq!(lock.lock().index(), core);
                *handle.lock() += 1;
            });
        });
        assert_eq!(*lock.lock(), 1);
    }

    /// Holding the lock through `Lock::lock` and then through the handle (or
    /// the other way round) is re-entry: a clear panic, or `None` for a try.
    #[test]
    fn the_handle_and_lock_do_not_reenter_each_other() {
        let lock = machine_lock(());
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut handle = lock.pin(0).expect("core 0 is free");
                let guard = lock.lock();
                assert!(handle.try_lock().is_none());
                drop(guard);
                let guard = handle.lock();
                assert!(lock.try_lock().is_none());
                drop(guard);
            });
        });
    }

    /// A thread that used another seat before it pinned one, holding the
    /// lock through its handle, panics on `Lock::lock` (re-entry) instead of
    /// taking its old seat and waiting for itself.
    #[test]
    fn lock_while_the_handle_holds_panics_after_another_seat_was_used() {
        let lock = Arc::new(machine_lock(()));
        let (told, outcome) = mpsc::channel();
        let thread = std::thread::spawn({
            let lock = Arc::clone(&lock);
            move || {
                drop(lock.lock()); // leaves this thread's seat 0 idle, remembered
                let mut handle = match lock.pin(1) {
                    Ok(handle) => handle,
                    Err(PinError::NoSuchCore { .. }) => return told.send(None).unwrap(),
                    Err(other) => panic!("core 1 is free: {other:?}"),
                };
                let _held = handle.lock();
                let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    drop(lock.lock());
                }));
                told.send(Some(again.is_err())).unwrap();
            }
        });
        // On a regression the thread waits for itself: fail, do not hang
        // (and do not join it).
        let panicked = outcome
            .recv_timeout(Duration::from_secs(20))
            .expect("Lock::lock waited for its own pinned seat instead of panicking");
        thread.join().unwrap();
        // `None`: a one-core machine has no second seat to pin.
        assert_ne!(
            panicked,
            Some(false),
            "Lock::lock re-entered through another seat"
        );
    }

    /// A handle dropped while its thread holds the lock through `Lock::lock`
    /// keeps the core until that guard goes, then gives it back.
    #[test]
    fn a_handle_dropped_while_its_thread_holds_the_lock_keeps_the_core() {
        let lock = machine_lock(());
        let holding = Barrier::new(2);
        let checked = Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                let handle = lock.pin(0).expect("core 0 is free");
                let guard = lock.lock(); // through the pinned seat: core 0
                assert_eq!(guard.index(), 0);
                drop(handle);
                holding.wait();
                checked.wait();
                drop(guard);
                holding.wait();
            });
            holding.wait();
            let refused = s.spawn(|| lock.pin(0).map(drop)).join().unwrap();
            assert_eq!(refused, Err(PinError::CoreTaken { core: 0 }));
            checked.wait();
            holding.wait(); // the guard is gone
            let again = s.spawn(|| lock.pin(0).map(drop)).join().unwrap();
            assert_eq!(again, Ok(()));
        });
    }
}
