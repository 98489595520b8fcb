//! Loom models of the async lock: tasks polled by hand on loom threads,
//! each with a waker that counts its wakes and unblocks its thread.
//!
//! A task whose future returns `Pending` blocks its loom thread until its
//! waker is woken; a wake the lock loses leaves it blocked for good, which
//! loom reports as a deadlock, and the model fails. Every critical section
//! increments the lock's own data (a loom-tracked cell), so two holders at
//! once are a race loom reports; the waker cells are loom-tracked too, so a
//! cell written while a mover clones it is reported as well.
//!
//! - mutual exclusion and no lost wake, 2 tasks × 1 and × 2 acquisitions,
//!   the second with a fresh waker at every poll (cells reused);
//! - FIFO: a task polled first after another's first poll has ended enters
//!   after it;
//! - cancellation: a waiter dropped before its first poll, after one and
//!   after two polls, against a holder that comes back;
//! - a woken waiter dropped before it runs again, with a third task behind
//!   it (3 tasks, bounded);
//! - `try_lock` against `lock`;
//! - in every schedule (no preemption bound, a test of its own): 2 tasks ×
//!   1 acquisition, and the waker slot alone with a cell reused;
//! - the sweep: every fence of the waker slot removed and weakened, and
//!   every named ordering weakened, must be caught by one of these.
#![cfg(loom)]

use doorway::__private::{ASYNC_FENCES, ASYNC_ORDERINGS};
use doorway::asynch::{AsyncLock, AsyncParticipant};
use doorway_loom_tests::{Bound, Model, Passing};
use loom::sync::Notify;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll, Wake, Waker};

/// A loom thread's task: its wakes unblock the thread.
struct Task {
    notify: Notify,
    wakes: AtomicUsize,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Relaxed);
        self.notify.notify();
    }
}

/// A distinct waker for the same task (`will_wake` tells them apart), as
/// an executor that wraps its wakers may hand out at each poll.
struct Fresh(Arc<Task>);

impl Wake for Fresh {
    fn wake(self: Arc<Self>) {
        self.0.wake_by_ref();
    }
}

/// Polls `future` on this loom thread until it is ready, blocking while it
/// is pending and nobody has woken it; with `fresh`, a new waker each poll.
/// Stops early, returning `None`, once `polls` polls returned `Pending`.
fn drive<F: Future + Unpin>(
    future: &mut F,
    fresh: bool,
    polls: Option<usize>,
) -> Option<F::Output> {
    let task = Arc::new(Task {
        notify: Notify::new(),
        wakes: AtomicUsize::new(0),
    });
    let same = Waker::from(Arc::clone(&task));
    let mut pending = 0;
    loop {
        let waker = if fresh {
            Waker::from(Arc::new(Fresh(Arc::clone(&task))))
        } else {
            same.clone()
        };
        let before = task.wakes.load(Relaxed);
        if let Poll::Ready(output) = Pin::new(&mut *future).poll(&mut Context::from_waker(&waker)) {
            return Some(output);
        }
        pending += 1;
        if polls == Some(pending) {
            return None;
        }
        let woke_itself = task.wakes.load(Relaxed) != before;
        task.notify.wait();
        if woke_itself {
            // A yield (someone choosing, a busy cell): let the others run.
            thread::yield_now();
        }
    }
}

/// Drops its value, except while the thread unwinds: loom unwinds the
/// threads of an execution it stopped (a deadlock it found), and a lock
/// future's or a guard's drop then touches loom's atomics after the
/// execution ended, which panics again and aborts the process.
struct Quiet<T>(core::mem::ManuallyDrop<T>);

impl<T> Quiet<T> {
    fn new(value: T) -> Self {
        Self(core::mem::ManuallyDrop::new(value))
    }
}

impl<T> core::ops::Deref for Quiet<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> core::ops::DerefMut for Quiet<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> Drop for Quiet<T> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            // SAFETY: dropped once, here.
            unsafe { core::mem::ManuallyDrop::drop(&mut self.0) };
        }
    }
}

/// A lock for one model execution, leaked (a few bytes per execution) so
/// that its participants are `'static` and can move into loom threads.
fn lock<const N: usize>() -> &'static mut AsyncLock<N, u32> {
    let lock = Box::leak(Box::new(AsyncLock::new(0)));
    // Built now, by the model's main thread, before any task starts.
    assert!(!lock.is_locked());
    lock
}

/// Locks `times` times, incrementing the lock's data (a tracked write).
fn acquire<const N: usize>(me: &mut AsyncParticipant<'static, N, u32>, times: usize, fresh: bool) {
    for _ in 0..times {
        let mut acquire = Quiet::new(me.lock());
        let mut guard = Quiet::new(drive(&mut *acquire, fresh, None).unwrap());
        **guard += 1;
    }
}

/// The data, read by a participant after every task is done (`try_lock`
/// fails while anyone holds a ticket: none may be left).
fn total<const N: usize>(me: &mut AsyncParticipant<'static, N, u32>) -> u32 {
    let guard = Quiet::new(me.try_lock().expect("the lock is free at the end"));
    **guard
}

/// Two tasks, `times` acquisitions each.
fn exclusion(times: usize, fresh: bool) {
    let lock = lock::<2>();
    let [mut a, mut b] = lock.participants();
    let other = thread::spawn(move || {
        acquire(&mut b, times, fresh);
    });
    acquire(&mut a, times, fresh);
    other.join().unwrap();
    assert_eq!(total(&mut a), 2 * times as u32, "mutual exclusion violated");
}

/// Three tasks, one acquisition each.
fn exclusion_three() {
    let lock = lock::<3>();
    let [mut a, mut b, mut c] = lock.participants();
    let second = thread::spawn(move || acquire(&mut b, 1, false));
    let third = thread::spawn(move || acquire(&mut c, 1, false));
    acquire(&mut a, 1, false);
    second.join().unwrap();
    third.join().unwrap();
    assert_eq!(total(&mut a), 3, "mutual exclusion violated");
}

/// The second task starts only after the first's first poll; it must enter
/// after the first.
fn fifo() {
    let lock = lock::<2>();
    let [mut a, mut b] = lock.participants();
    let in_line = Arc::new(loom::sync::atomic::AtomicBool::new(false));
    let entered = Arc::new(AtomicBool::new(false));
    let second = {
        let (in_line, entered) = (in_line.clone(), entered.clone());
        thread::spawn(move || {
            let came_after = in_line.load(SeqCst);
            let mut acquire = Quiet::new(b.lock());
            let mut guard = Quiet::new(drive(&mut *acquire, false, None).unwrap());
            assert!(
                !came_after || entered.load(SeqCst),
                "mutual exclusion violated: FIFO, a later arrival entered first"
            );
            **guard += 1;
        })
    };
    let mut acquire = Quiet::new(a.lock());
    let first = drive(&mut *acquire, false, Some(1));
    in_line.store(true, SeqCst);
    let mut guard = Quiet::new(match first {
        Some(guard) => guard,
        None => drive(&mut *acquire, false, None).unwrap(),
    });
    entered.store(true, SeqCst);
    **guard += 1;
    drop(guard);
    second.join().unwrap();
}

/// A holder locks twice; a waiter gives up after `polls` polls (0: before
/// the first), then locks once for good.
fn cancelled(polls: usize) {
    let lock = lock::<2>();
    let [mut a, mut b] = lock.participants();
    let holder = thread::spawn(move || acquire(&mut a, 2, false));
    {
        let mut acquire = Quiet::new(b.lock());
        if polls > 0
            && let Some(guard) = drive(&mut *acquire, false, Some(polls))
        {
            **Quiet::new(guard) += 1;
        }
    }
    acquire(&mut b, 1, false);
    holder.join().unwrap();
    let total = total(&mut b);
    assert!(
        (3..=4).contains(&total),
        "mutual exclusion violated: {total}"
    );
}

/// Three tasks: the second waits behind the first, is woken by its exit,
/// and is dropped before it runs again; the third, behind it, must get in.
fn woken_then_dropped() {
    let lock = lock::<3>();
    let [mut a, mut b, mut c] = lock.participants();
    let third = thread::spawn(move || acquire(&mut c, 1, false));
    let holder = thread::spawn(move || acquire(&mut a, 1, false));
    {
        let mut acquire = Quiet::new(b.lock());
        if let Some(guard) = drive(&mut *acquire, false, Some(1)) {
            **Quiet::new(guard) += 1;
        }
        // Dropped here, woken or not.
    }
    third.join().unwrap();
    holder.join().unwrap();
}

/// `try_lock` against a task that locks twice.
fn try_against_lock() {
    let lock = lock::<2>();
    let [mut a, mut b] = lock.participants();
    let holder = thread::spawn(move || acquire(&mut a, 2, false));
    for _ in 0..2 {
        if let Some(guard) = b.try_lock() {
            **Quiet::new(guard) += 1;
        }
    }
    holder.join().unwrap();
}

/// The waker slot alone: participant 1 publishes `wakers` wakers in a row
/// (cells 0, 1, 0 again, ...) and retires; participant 0 wakes it `wakes`
/// times. A cell rewritten while the mover clones it, or emptied, is a race
/// loom reports.
fn slot_reused(wakers: usize, wakes: usize) {
    let pair = Arc::new(doorway::__private::waker_slot::Pair::new());
    let mover = {
        let pair = pair.clone();
        thread::spawn(move || {
            for _ in 0..wakes {
                pair.wake(1, 0);
            }
        })
    };
    let task = Arc::new(Task {
        notify: Notify::new(),
        wakes: AtomicUsize::new(0),
    });
    for _ in 0..wakers {
        let waker = Waker::from(Arc::new(Fresh(Arc::clone(&task))));
        // A busy cell is skipped: the lock's task would try on its next poll.
        let _ = pair.sleep_on(1, 0, &waker);
    }
    pair.retire(1);
    mover.join().unwrap();
}

/// The preemption bound: `default`, or `ASYNC_BOUND` from the environment
/// (for measuring; `ASYNC_BOUND=exhaustive` for none).
fn bound(default: usize) -> Bound {
    match std::env::var("ASYNC_BOUND").ok().as_deref() {
        Some("exhaustive") => Bound::Exhaustive,
        Some(b) => Bound::Preemptions(b.parse().expect("ASYNC_BOUND: a number or `exhaustive`")),
        None => Bound::Preemptions(default),
    }
}

fn models() -> Vec<Model> {
    let models = vec![
        Model::new(
            "async: the waker slot, 3 wakers in a row, woken twice",
            bound(3),
            || slot_reused(3, 2),
        ),
        Model::new("async: 2 tasks x 1 acquisition", bound(3), || {
            exclusion(1, false)
        }),
        Model::new(
            "async: FIFO, 2 tasks, the second after the first's first poll",
            bound(3),
            fifo,
        ),
        Model::new(
            "async: a waiter dropped before its first poll",
            bound(3),
            || cancelled(0),
        ),
        Model::new("async: a waiter dropped after 1 poll", bound(2), || {
            cancelled(1)
        }),
        Model::new("async: a waiter dropped after 2 polls", bound(2), || {
            cancelled(2)
        }),
        Model::new("async: try_lock vs lock twice", bound(3), try_against_lock),
        Model::new(
            "async: 2 tasks x 2 acquisitions, a new waker every poll",
            bound(2),
            || exclusion(2, true),
        ),
        Model::new("async: 3 tasks x 1 acquisition", bound(1), exclusion_three),
        Model::new(
            "async: 3 tasks, the woken one dropped before its re-poll",
            bound(1),
            woken_then_dropped,
        ),
    ];
    // `ASYNC_ONLY=<part of a name>`: only the matching models (for measuring).
    match std::env::var("ASYNC_ONLY") {
        Ok(only) => models
            .into_iter()
            .filter(|m| m.name.contains(&only))
            .collect(),
        Err(_) => models,
    }
}

/// Two participants in every schedule (no preemption bound): the lock with
/// one acquisition each, and the waker slot with a cell reused. A test of
/// their own, so that `.ci/loom` runs them beside the sweeps; the sweeps
/// need not reach them (the bounded models catch every mutation).
fn every_schedule() -> Vec<Model> {
    vec![
        Model::new(
            "async: 2 tasks x 1 acquisition (every schedule)",
            Bound::Exhaustive,
            || exclusion(1, false),
        ),
        Model::new(
            "async: the waker slot, 2 wakers in a row, woken once (every schedule)",
            Bound::Exhaustive,
            || slot_reused(2, 1),
        ),
    ]
}

#[test]
fn async_models_in_every_schedule() {
    let models = every_schedule();
    // `ASYNC_ONLY=<part of a name>`: only the matching models (for measuring).
    let only = std::env::var("ASYNC_ONLY").unwrap_or_default();
    Passing::check(
        models
            .into_iter()
            .filter(|m| m.name.contains(&only))
            .collect(),
    );
}

#[test]
fn async_models_and_every_fence_and_ordering() {
    let passing = Passing::check(models());
    if std::env::var("ASYNC_ONLY").is_ok() {
        return;
    }
    passing.every_fence_is_necessary(&ASYNC_FENCES);
    passing.every_ordering_is_necessary(&ASYNC_ORDERINGS, &[]);
}
