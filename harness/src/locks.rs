//! Lock scenarios shared by the stress tests, the loom models and the benches.
//!
//! Every scenario is written once against [`RawLock`] or [`FifoLock`] and runs
//! on whatever [`sync`](crate::sync) provides: real threads normally, loom's
//! model-checked threads under `--cfg loom`. Participant `k` is always thread
//! `k`, which keeps the raw locks' uniqueness contract by construction.
//!
//! Each scenario asserts a property that a broken lock violates:
//!
//! - [`mutual_exclusion`]: a counter incremented with a separate read and
//!   write, never atomically, ends exact. Under loom the counter is a loom
//!   cell, so the first unsynchronized access fails the model; under Miri it is
//!   a data race; on real threads it is a lost increment.
//! - [`try_lock_exclusion`]: the same with `try_lock`, counting successes.
//! - [`fifo_audit`]: no participant enters ahead of one whose doorway finished
//!   before its own began.

use crate::sync::{Arc, AtomicUsize, UnsafeCell, thread};
use core::mem::ManuallyDrop;
use doorway::{FifoLock, RawLock};
use std::sync::atomic::Ordering;

/// A raw lock and the data it guards, shared by the scenario's threads.
struct Shared<R, D> {
    lock: R,
    data: UnsafeCell<D>,
}

// SAFETY: `data` is touched only between `lock` and `unlock` of `lock` (or
// after every thread is joined); if the lock under test is broken, the
// scenario's whole point is to catch the resulting race.
unsafe impl<R: Sync, D: Send> Sync for Shared<R, D> {}

impl<R: RawLock, D> Shared<R, D> {
    fn new(lock: R, data: D) -> Self {
        Self {
            lock,
            data: UnsafeCell::new(data),
        }
    }

    /// Runs `f` on the data, holding the lock as participant `who`.
    fn locked<T>(&self, who: usize, f: impl FnOnce(&mut D) -> T) -> T {
        // SAFETY: participant `who` is used by one thread only (thread `who`).
        unsafe { self.lock.lock(who) };
        let result = self.in_critical_section(f);
        // SAFETY: `who` holds the lock.
        unsafe { self.lock.unlock(who) };
        result
    }

    fn in_critical_section<T>(&self, f: impl FnOnce(&mut D) -> T) -> T {
        #[cfg(not(loom))]
        assert!(
            self.lock.is_locked(),
            "is_locked() is false inside the critical section"
        );
        // SAFETY: the caller holds the lock.
        self.data.with_mut(|data| f(unsafe { &mut *data }))
    }

    /// The data, once every thread is done; the lock must be free by then.
    fn into_data(self) -> D {
        assert!(
            !self.lock.is_locked(),
            "the lock is still held after every unlock"
        );
        self.data.into_inner()
    }
}

/// Runs `body(&plan, k)` on `threads` threads, thread `k` acting as
/// participant `k`, joins them all, and hands back the plan and what each
/// thread returned. (Results travel through `join`, not through shared
/// atomics, which would add interleavings to every loom model.)
fn run_participants<P, T>(plan: P, threads: usize, body: fn(&P, usize) -> T) -> (P, Vec<T>)
where
    P: Send + Sync + 'static,
    T: Send + 'static,
{
    let plan = Arc::new(plan);
    let start_line = Arc::new(StartLine::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|who| {
            // Dropped by hand at the end: a thread that loom stops in the
            // middle (a sleeper it finds blocked for good) unwinds without
            // them, since dropping loom's `Arc` after the execution ended
            // panics again and aborts the process.
            let (plan, start_line) = (
                ManuallyDrop::new(Arc::clone(&plan)),
                ManuallyDrop::new(Arc::clone(&start_line)),
            );
            thread::spawn(move || {
                start_line.wait();
                let result = body(&plan, who);
                drop(ManuallyDrop::into_inner(plan));
                drop(ManuallyDrop::into_inner(start_line));
                result
            })
        })
        .collect();
    let results = handles
        .into_iter()
        .map(|handle| handle.join().expect("a scenario thread panicked"))
        .collect();
    match Arc::try_unwrap(plan) {
        Ok(plan) => (plan, results),
        Err(_) => unreachable!("every scenario thread has been joined"),
    }
}

/// Holds a scenario's threads until all have started, so that on real
/// threads they contend from the first round instead of running one after
/// another within a time slice. Under loom every interleaving is explored
/// anyway, and a barrier would only add states.
struct StartLine {
    #[cfg(not(loom))]
    barrier: std::sync::Barrier,
}

impl StartLine {
    fn new(threads: usize) -> Self {
        #[cfg(loom)]
        let _ = threads;
        Self {
            #[cfg(not(loom))]
            barrier: std::sync::Barrier::new(threads),
        }
    }

    fn wait(&self) {
        #[cfg(not(loom))]
        self.barrier.wait();
    }
}

/// A read, then a separate write: the increment a lock must make atomic.
fn increment(counter: &mut u64) {
    // Volatile accesses keep the compiler from fusing the read and the write
    // into one instruction, which would hide lost updates on real hardware.
    let ptr: *mut u64 = counter;
    // SAFETY: `ptr` comes from a live `&mut u64`.
    let seen = unsafe { ptr.read_volatile() };
    widen_race_window();
    // SAFETY: as above.
    unsafe { ptr.write_volatile(seen + 1) };
}

/// On real threads, a few dozen cycles between the read and the write of an
/// increment, so that a lapse of mutual exclusion loses an update instead of
/// slipping between two adjacent instructions. Under loom and Miri the race is
/// detected at the access itself, and the delay would only cost time.
#[inline]
fn widen_race_window() {
    #[cfg(not(any(loom, miri)))]
    for i in 0..16u32 {
        core::hint::black_box(i);
    }
}

/// `threads` participants each lock `rounds` times and increment a counter
/// non-atomically inside; the counter must end at `threads × rounds`.
pub fn mutual_exclusion<R: RawLock + Send + 'static>(lock: R, threads: usize, rounds: usize) {
    mutual_exclusion_rounds(lock, &vec![rounds; threads]);
}

/// Participant `k` locks `rounds[k]` times and increments a counter
/// non-atomically inside; the counter must end at the sum of `rounds`.
pub fn mutual_exclusion_rounds<R: RawLock + Send + 'static>(lock: R, rounds: &[usize]) {
    struct Plan<R> {
        shared: Shared<R, u64>,
        rounds: Vec<usize>,
    }
    let plan = Plan {
        shared: Shared::new(lock, 0),
        rounds: rounds.to_vec(),
    };
    let (plan, _) = run_participants(plan, rounds.len(), |plan, who| {
        for _ in 0..plan.rounds[who] {
            plan.shared.locked(who, increment);
        }
    });
    let count = plan.shared.into_data();
    let expected = rounds.iter().sum::<usize>() as u64;
    assert_eq!(
        count, expected,
        "mutual exclusion violated: increments were lost"
    );
}

/// Participant 0 locks; the others use `try_lock`, up to `attempts` times per
/// round, and increment only on success. The counter must equal the number of
/// acquisitions, and the lock must be free at the end.
pub fn try_lock_exclusion<R: RawLock + Send + 'static>(
    lock: R,
    threads: usize,
    rounds: usize,
    attempts: usize,
) {
    struct Plan<R> {
        shared: Shared<R, u64>,
        rounds: usize,
        attempts: usize,
    }
    let plan = Plan {
        shared: Shared::new(lock, 0),
        rounds,
        attempts,
    };
    let (plan, acquisitions) = run_participants(plan, threads, |plan, who| {
        let shared = &plan.shared;
        let mut acquired = 0u64;
        for _ in 0..plan.rounds {
            if who == 0 {
                shared.locked(who, increment);
                acquired += 1;
                continue;
            }
            for _ in 0..plan.attempts {
                // SAFETY: participant `who` is thread `who` alone.
                if unsafe { shared.lock.try_lock(who) } {
                    shared.in_critical_section(increment);
                    // SAFETY: the try succeeded, so `who` holds the lock.
                    unsafe { shared.lock.unlock(who) };
                    acquired += 1;
                    break;
                }
            }
        }
        acquired
    });
    let count = plan.shared.into_data();
    assert_eq!(
        count,
        acquisitions.iter().sum::<u64>(),
        "mutual exclusion violated under try_lock"
    );
}

/// One acquisition, as the FIFO audit saw it.
#[derive(Clone, Copy, Debug)]
pub struct Visit {
    /// The participant.
    pub who: usize,
    /// Position on the audit clock just before the doorway began.
    pub doorway_began: usize,
    /// Position on the audit clock just after the doorway ended.
    pub doorway_ended: usize,
}

/// What the FIFO audit found.
#[derive(Debug, Default)]
pub struct FifoReport {
    /// Acquisitions audited.
    pub visits: usize,
    /// Acquisitions that entered ahead of a participant whose doorway had
    /// finished before theirs began. Zero for a first-come-first-served lock.
    pub overtakes: usize,
    /// The first overtake found: (the one overtaken, the one that overtook).
    pub first_overtake: Option<(Visit, Visit)>,
}

/// Every participant locks `rounds` times through the split doorway and
/// waiting room; an audit clock (one shared counter) stamps each doorway's
/// start and end, and the critical section records the order of entry.
///
/// `p` finished its doorway before `q` began exactly when `p`'s end stamp is
/// below `q`'s begin stamp (the stamps are read-modify-writes of one counter,
/// so their order is a happens-before order). Such a `p` must enter first.
pub fn fifo_audit<R: FifoLock + Send + 'static>(
    lock: R,
    threads: usize,
    rounds: usize,
) -> FifoReport {
    struct Plan<R> {
        shared: Shared<R, Vec<Visit>>,
        clock: AtomicUsize,
        rounds: usize,
    }
    let plan = Plan {
        shared: Shared::new(lock, Vec::with_capacity(threads * rounds)),
        clock: AtomicUsize::new(0),
        rounds,
    };
    let (plan, _) = run_participants(plan, threads, |plan, who| {
        let shared = &plan.shared;
        for _ in 0..plan.rounds {
            let doorway_began = plan.clock.fetch_add(1, Ordering::SeqCst);
            // SAFETY: participant `who` is thread `who` alone.
            let ticket = unsafe { shared.lock.doorway(who) };
            let doorway_ended = plan.clock.fetch_add(1, Ordering::SeqCst);
            // SAFETY: `ticket` is from `who`'s doorway just above.
            unsafe { shared.lock.wait_turn(who, ticket) };
            shared.in_critical_section(|log| {
                log.push(Visit {
                    who,
                    doorway_began,
                    doorway_ended,
                })
            });
            // SAFETY: `who` holds the lock.
            unsafe { shared.lock.unlock(who) };
        }
    });
    audit_entry_order(&plan.shared.into_data())
}

/// Finds visits that entered ahead of a visit whose doorway had already ended
/// when theirs began. `entries` is in order of entry.
pub fn audit_entry_order(entries: &[Visit]) -> FifoReport {
    let mut report = FifoReport {
        visits: entries.len(),
        ..FifoReport::default()
    };
    // Walking backwards, `earliest_end` is the earliest doorway end among the
    // visits that entered later than the current one.
    let mut earliest_end: Option<&Visit> = None;
    for visit in entries.iter().rev() {
        if let Some(later) = earliest_end
            && later.doorway_ended < visit.doorway_began
        {
            report.overtakes += 1;
            report.first_overtake = Some((*later, *visit));
        }
        if earliest_end.is_none_or(|e| visit.doorway_ended < e.doorway_ended) {
            earliest_end = Some(visit);
        }
    }
    report
}

/// `threads` threads lock through [`Lock::lock`](doorway::Lock::lock) (taking
/// the lock's seats, as many threads as they like) `rounds` times each and
/// increment a counter non-atomically; it must end exact. With more threads
/// than seats, some wait for a seat and take over one another left idle.
pub fn seated_exclusion<R>(raw: R, threads: usize, rounds: usize)
where
    R: doorway::Seated + Send + 'static,
{
    let lock = Arc::new(doorway::Lock::from_raw(raw, 0u64));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            // Dropped by hand, as in `run_participants`.
            let lock = ManuallyDrop::new(Arc::clone(&lock));
            thread::spawn(move || {
                for _ in 0..rounds {
                    increment(&mut lock.lock());
                }
                drop(ManuallyDrop::into_inner(lock));
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a scenario thread panicked");
    }
    let lock = match Arc::try_unwrap(lock) {
        Ok(lock) => lock,
        Err(_) => unreachable!("every scenario thread has been joined"),
    };
    assert!(
        !lock.is_locked(),
        "the lock is still held after every unlock"
    );
    assert_eq!(
        lock.into_inner(),
        (threads * rounds) as u64,
        "mutual exclusion violated: increments were lost"
    );
}

/// Participant 0 waits to lock but gives up after `patience` looks (and, if
/// it gets in first, increments); the other participants lock through the
/// doorway and the waiting room with the FIFO audit clock. The counter must
/// count every acquisition, the lock must end free (a withdrawal leaves no
/// trace), and no participant that stayed may overtake one whose doorway
/// finished before its own began.
pub fn withdrawal_audit<R>(lock: R, threads: usize, rounds: usize, patience: usize) -> FifoReport
where
    R: FifoLock + doorway::Withdraw + Send + 'static,
{
    struct Plan<R> {
        shared: Shared<R, (u64, Vec<Visit>)>,
        clock: AtomicUsize,
        rounds: usize,
        patience: usize,
    }
    let plan = Plan {
        shared: Shared::new(lock, (0, Vec::new())),
        clock: AtomicUsize::new(0),
        rounds,
        patience,
    };
    let (plan, acquired) = run_participants(plan, threads, |plan, who| {
        let shared = &plan.shared;
        let mut acquired = 0u64;
        for _ in 0..plan.rounds {
            if who == 0 {
                let mut looks = 0;
                // SAFETY: participant 0 is thread 0 alone.
                let entered = unsafe {
                    shared.lock.lock_unless(0, || {
                        looks += 1;
                        looks > plan.patience
                    })
                };
                if entered {
                    shared.in_critical_section(|(count, _)| increment(count));
                    // SAFETY: participant 0 holds the lock.
                    unsafe { shared.lock.unlock(0) };
                    acquired += 1;
                }
                continue;
            }
            let doorway_began = plan.clock.fetch_add(1, Ordering::SeqCst);
            // SAFETY: participant `who` is thread `who` alone.
            let ticket = unsafe { shared.lock.doorway(who) };
            let doorway_ended = plan.clock.fetch_add(1, Ordering::SeqCst);
            // SAFETY: `ticket` is from `who`'s doorway just above.
            unsafe { shared.lock.wait_turn(who, ticket) };
            shared.in_critical_section(|(count, log)| {
                increment(count);
                log.push(Visit {
                    who,
                    doorway_began,
                    doorway_ended,
                })
            });
            // SAFETY: `who` holds the lock.
            unsafe { shared.lock.unlock(who) };
            acquired += 1;
        }
        acquired
    });
    let (count, log) = plan.shared.into_data();
    assert_eq!(
        count,
        acquired.iter().sum::<u64>(),
        "mutual exclusion violated with a waiter that withdraws"
    );
    audit_entry_order(&log)
}

/// Participant 0 locks `rounds` times; participant 1 waits for the lock but
/// gives up after `patience` looks each round. The counter counts every
/// acquisition and the lock ends free: a withdrawal leaves no trace. (For a
/// lock that is not first come, first served; see [`withdrawal_audit`] for
/// one that is.)
pub fn withdrawal_exclusion<R>(lock: R, patience: usize)
where
    R: doorway::Withdraw + Send + 'static,
{
    struct Plan<R> {
        shared: Shared<R, u64>,
        patience: usize,
    }
    let plan = Plan {
        shared: Shared::new(lock, 0),
        patience,
    };
    let (plan, acquired) = run_participants(plan, 2, |plan, who| {
        let shared = &plan.shared;
        if who == 0 {
            shared.locked(0, increment);
            return 1;
        }
        let mut looks = 0;
        // SAFETY: participant 1 is thread 1 alone.
        let entered = unsafe {
            shared.lock.lock_unless(1, || {
                looks += 1;
                looks > plan.patience
            })
        };
        if entered {
            shared.in_critical_section(increment);
            // SAFETY: participant 1 holds the lock.
            unsafe { shared.lock.unlock(1) };
        }
        u64::from(entered)
    });
    assert_eq!(
        plan.shared.into_data(),
        acquired.iter().sum::<u64>(),
        "mutual exclusion violated with a waiter that withdraws"
    );
}
