//! Async tasks on every hart, taking doorway's [`AsyncLock`] around a plain
//! counter, under an executor of the image's own: there is no
//! compare-and-swap to build a usual one from.
//!
//! Each hart runs [`TASKS_PER_HART`] tasks; task `t` is participant `t` of
//! one `AsyncLock<TASKS, _>` and takes it [`K_ASYNC`] times. Inside, it reads
//! the counter, yields once (the guard held across an `await`, so the other
//! task of its hart runs meanwhile and tries the lock), then writes the
//! counter plus one: a lock that let a second task in would lose updates,
//! across harts and between the two tasks of one hart.
//!
//! # The executor
//!
//! Per task a `ready` flag, set by its [`Waker`] (a `RawWaker` over the
//! flag: a store, no read-modify-write) and cleared by the executor before
//! it polls the task. A hart polls only its tasks whose flag is set, so a
//! task runs again only when something woke it; a hart with nothing ready
//! naps. A wake that never comes leaves a hart with nothing ready: after
//! [`STALL_TIMEOUT`] of that, it fails the run as *stranded*.
//!
//! # Invariants
//!
//! 1. **Flags.** `READY[t]` is stored by `t`'s wakers (any hart) and by
//!    `t`'s hart, which stores `false` only right before polling `t`; no
//!    register is read-modified-written.
//! 2. **No lost wake.** The executor clears a flag, fences (`SeqCst`), and
//!    then polls; a waker moves the lock (its exit or withdrawal, which ends
//!    with doorway's `SeqCst` fence) before it sets the flag. Either the
//!    poll's loads see the move, or the clear precedes the set in the flag's
//!    modification order (the two `SeqCst` fences order the two stores) and
//!    the flag stays set for the next round.
//! 3. **FIFO audit.** A task stamps `LINED_UP[t]` with QEMU's clock once its
//!    first poll of an acquisition returned `Pending` (its place in line is
//!    fixed then), and clears it inside the lock. A task entering while
//!    another's stamp is older than the start of its own first poll has
//!    overtaken it: the lock fixes order at the first poll, so such an
//!    overtake is a failure.

use crate::{HARTS, QemuHart, dawdle, hart, machine};
use core::future::{Future, poll_fn};
use core::pin::{Pin, pin};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering::*, fence};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use doorway::asynch::{AsyncLock, AsyncParticipant};
use doorway::harts::Hart;

/// Tasks per hart (the executor below holds exactly two).
pub const TASKS_PER_HART: usize = 2;

/// Tasks in all, each one participant of [`COUNTER`].
pub const TASKS: usize = HARTS * TASKS_PER_HART;

/// Acquisitions per task.
pub const K_ASYNC: u32 = 1000;

/// How long a hart may find none of its tasks woken before it declares them
/// stranded (QEMU's clock; every phase takes well under a second).
const STALL_TIMEOUT: u64 = 10 * machine::TIMER_HZ;

/// Exit code for QEMU when a hart's tasks are stranded.
const STRANDED: u16 = 5;

/// The counter: plain integers, behind the async lock.
static COUNTER: AsyncLock<TASKS, Tally> = AsyncLock::new(Tally::new());

/// Whether task `t` is to be polled (invariant 1).
static READY: [AtomicBool; TASKS] = [const { AtomicBool::new(false) }; TASKS];

/// When task `t`'s pending acquisition took its place in line (QEMU's
/// clock, ticks, 0: not in line); invariant 3.
static LINED_UP: [AtomicU32; TASKS] = [const { AtomicU32::new(0) }; TASKS];

/// Polls made by each hart's executor; entry `h` written by hart `h`.
static POLLS: [AtomicU32; HARTS] = [const { AtomicU32::new(0) }; HARTS];

/// What the tasks keep behind the lock.
struct Tally {
    count: u32,
    /// Acquisitions per task.
    per_task: [u32; TASKS],
    /// Acquisitions by another task than the one before.
    handoffs: u32,
    last: usize,
    /// Acquisitions whose first poll returned `Pending`.
    waited: u32,
    /// Entries before a task that was in line earlier (invariant 3).
    overtakes: u32,
}

impl Tally {
    const fn new() -> Self {
        Self {
            count: 0,
            per_task: [0; TASKS],
            handoffs: 0,
            last: usize::MAX,
            waited: 0,
            overtakes: 0,
        }
    }
}

/// What hart 0 found after the phase.
pub struct Figures {
    /// The counter.
    pub total: u32,
    /// The fewest and the most acquisitions made by one task.
    pub fewest: u32,
    pub most: u32,
    /// Acquisitions whose first poll returned `Pending`.
    pub waited: u32,
    /// Entries before a task that was in line earlier.
    pub overtakes: u32,
    /// Acquisitions by another task than the one before.
    pub handoffs: u32,
    /// Polls made by all four executors.
    pub polls: u32,
    /// The lock was free with nobody in line at the end.
    pub free: bool,
}

impl Figures {
    /// Every count exact, no overtake, and the lock free at the end.
    pub fn passed(&self) -> bool {
        self.free
            && self.total == TASKS as u32 * K_ASYNC
            && self.fewest == K_ASYNC
            && self.most == K_ASYNC
            && self.overtakes == 0
    }
}

/// Runs this hart's tasks to completion (participants `TASKS_PER_HART *
/// hart` and the next).
pub fn run(hart: usize) {
    let first = hart * TASKS_PER_HART;
    // SAFETY: `hart` is this hart's `mhartid`, unique and below `HARTS`
    // (see `count` in main.rs), so the indices `first` and `first + 1` are
    // this hart's alone and below `TASKS`; each participant is made once
    // here and dropped with its task before `run` returns, and no handler
    // touches `COUNTER`.
    let (a, b) = unsafe {
        (
            COUNTER.participant_unchecked(first),
            COUNTER.participant_unchecked(first + 1),
        )
    };
    let mut tasks = [pin!(task(a)), pin!(task(b))];
    let mut done = [false; TASKS_PER_HART];
    for flag in &READY[first..first + TASKS_PER_HART] {
        flag.store(true, Relaxed);
    }
    let (mut polls, mut idle_looks, mut last_poll) = (0, 0, machine::now());
    while done.contains(&false) {
        let mut polled = false;
        for (i, future) in tasks.iter_mut().enumerate() {
            let t = first + i;
            // Acquire: what the waker did before its wake is seen by the poll.
            if done[i] || !READY[t].load(Acquire) {
                continue;
            }
            READY[t].store(false, Relaxed);
            // Invariant 2: the clear before the poll's loads (store
            // buffering against the `SeqCst` fence ending a waker's move).
            fence(SeqCst);
            let waker = waker(t);
            done[i] = future
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_ready();
            polls += 1;
            polled = true;
        }
        if polled {
            idle_looks = 0;
            last_poll = machine::now();
        } else if machine::now() - last_poll > STALL_TIMEOUT {
            crate::say(
                hart,
                format_args!(
                    "FAIL: hart {hart}: tasks stranded, no wake for {} s",
                    STALL_TIMEOUT / machine::TIMER_HZ
                ),
            );
            machine::exit(false, STRANDED);
        } else {
            idle_looks += 1;
            QemuHart::relax(idle_looks);
        }
    }
    POLLS[hart].store(polls, Relaxed);
}

/// One task: `K_ASYNC` acquisitions, each holding the lock across a yield.
async fn task(mut me: AsyncParticipant<'static, TASKS, Tally>) {
    let t = me.index();
    for _ in 0..K_ASYNC {
        let began = stamp();
        let mut acquire = me.lock();
        let (mut tally, waited) = match poll_once(&mut acquire).await {
            Poll::Ready(guard) => (guard, false),
            Poll::Pending => {
                LINED_UP[t].store(stamp(), Relaxed);
                (acquire.await, true)
            }
        };
        // Cleared inside the lock: the next holder sees it (the lock orders
        // this exit before its entry).
        LINED_UP[t].store(0, Relaxed);
        let overtaken = LINED_UP
            .iter()
            .map(|lined| lined.load(Relaxed))
            .filter(|&lined| lined != 0 && lined < began)
            .count();
        tally.overtakes += overtaken as u32;
        tally.waited += u32::from(waited);
        // Read, yield (the guard held), write: another task inside
        // meanwhile would lose an update.
        let count = tally.count;
        yield_now().await;
        dawdle();
        tally.count = count + 1;
        tally.per_task[t] += 1;
        if tally.last != t {
            tally.handoffs += u32::from(tally.last != usize::MAX);
            tally.last = t;
        }
        drop(tally);
        dawdle();
    }
}

/// Hart 0, after the barrier: the counter and the executors' polls.
pub fn check() -> Figures {
    let polls = POLLS.iter().map(|p| p.load(Relaxed)).sum();
    // SAFETY: index 0 is hart 0's; its tasks have finished and dropped their
    // participants (`run` returned before the barrier).
    let mut me = unsafe { COUNTER.participant_unchecked(0) };
    // Every task is done: the lock must be free, with no ticket left.
    let Some(tally) = me.try_lock() else {
        return Figures {
            total: 0,
            fewest: 0,
            most: 0,
            waited: 0,
            overtakes: 0,
            handoffs: 0,
            polls,
            free: false,
        };
    };
    Figures {
        total: tally.count,
        fewest: tally.per_task.iter().copied().min().unwrap_or(0),
        most: tally.per_task.iter().copied().max().unwrap_or(0),
        waited: tally.waited,
        overtakes: tally.overtakes,
        handoffs: tally.handoffs,
        polls,
        free: true,
    }
}

/// QEMU's clock in ticks, never 0 (which means "not in line"), ordered
/// against this hart's memory accesses around it. A run lasts well under
/// the 429 s after which the low word would wrap.
fn stamp() -> u32 {
    hart::io_fence();
    let now = u32::try_from(machine::now()).unwrap_or(u32::MAX).max(1);
    hart::io_fence();
    now
}

/// Polls `future` once, inside the caller's own poll: its outcome.
fn poll_once<F: Future + Unpin>(future: &mut F) -> impl Future<Output = Poll<F::Output>> + '_ {
    poll_fn(move |cx| Poll::Ready(Pin::new(&mut *future).poll(cx)))
}

/// Returns `Pending` once, having woken itself.
fn yield_now() -> impl Future<Output = ()> {
    let mut yielded = false;
    poll_fn(move |cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

/// Task `t`'s waker: sets `READY[t]`.
fn waker(t: usize) -> Waker {
    let flag: *const AtomicBool = &READY[t];
    // SAFETY: the vtable's functions keep `RawWaker`'s contract: the data is
    // a `&'static AtomicBool`, valid forever and shared between harts, so
    // cloning copies it, waking stores to it, and dropping does nothing.
    unsafe { Waker::from_raw(RawWaker::new(flag.cast(), &VTABLE)) }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, forget);

unsafe fn clone(flag: *const ()) -> RawWaker {
    RawWaker::new(flag, &VTABLE)
}

unsafe fn wake(flag: *const ()) {
    // SAFETY: made by `waker` from a `&'static AtomicBool`.
    let flag = unsafe { &*flag.cast::<AtomicBool>() };
    // Release: the waker's move is seen by the poll that reads the flag.
    flag.store(true, Release);
}

unsafe fn forget(_flag: *const ()) {}

// `run` pins exactly two futures.
const _: () = assert!(TASKS_PER_HART == 2);
