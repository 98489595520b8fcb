//! An async FIFO lock over Lamport's bakery: tasks wait by returning
//! `Pending`, with no compare-and-swap, no fetch-add, no allocation per
//! waiter and no global critical section.
//!
//! [`AsyncLock<N, T>`] guards a `T` for `N` participants, handed out by
//! borrow as [`Lock::participants`](crate::Lock::participants) does: one
//! [`AsyncParticipant`] per task, moved into it. `participant.lock().await`
//! returns a guard; [`try_lock`](AsyncParticipant::try_lock) never waits.
//!
//! ```
//! use doorway::asynch::AsyncLock;
//!
//! // A lock for two tasks; `Box::leak` stands in for a `static` cell.
//! let lock: &'static mut AsyncLock<2, u64> = Box::leak(Box::new(AsyncLock::new(0)));
//! let [mut a, mut b] = lock.participants();
//! futures::executor::block_on(async {
//!     let one = async { for _ in 0..100 { *a.lock().await += 1 } };
//!     let two = async { for _ in 0..100 { *b.lock().await += 1 } };
//!     futures::join!(one, two);
//! });
//! ```
//!
//! # Order
//!
//! First come, first served, where *come* is the **first poll**: the
//! bakery's doorway runs whole inside the future's first poll, so a task
//! whose first poll ends before another's begins enters before it. Creating
//! the future takes no place in line.
//!
//! # Cancelling
//!
//! Dropping the future at any point leaves the lock as if the task had
//! never come: before its first poll it wrote nothing; in line, or woken
//! and not yet polled again, it withdraws its ticket, and its withdrawal
//! wakes the task that waited on it, so no wake is swallowed. Timeouts come
//! from this: wrap the future in your runtime's timeout. A poll that panics
//! (in the executor's waker) and is then dropped, as a runtime drops a task
//! that panicked, is a cancellation like any other.
//!
//! Forgetting instead of dropping (`mem::forget` of a future in line, or of
//! a guard) is safe but, like a thread that never unlocks, keeps that
//! participant's place: everyone behind it waits for good, and locking
//! again through the same participant panics (it is still in line).
//! Polling a future again after it returned its guard panics.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use doorway::asynch::AsyncLock;
//! use std::time::Duration;
//!
//! let lock: &'static mut AsyncLock<3, u32> = Box::leak(Box::new(AsyncLock::new(0)));
//! let [mut holder, mut impatient, mut patient] = lock.participants();
//! let held = holder.lock().await;
//! // Gives up after 10 ms, leaving no ticket behind.
//! let late = tokio::time::timeout(Duration::from_millis(10), impatient.lock()).await;
//! assert!(late.is_err());
//! drop(held);
//! // The line is empty again: the next task enters at once.
//! assert!(patient.try_lock().is_some());
//! # }
//! ```
//!
//! # How a task waits
//!
//! The waiting room is the bakery's, resumed at each poll where the last
//! one stopped. Where a thread would sleep behind the participant just
//! ahead of it, the task leaves its `Waker` in a slot of its own and marks
//! whom it waits for; that participant's exit (or withdrawal) wakes it.
//! Each exit wakes the one task it lets through. A participant in the
//! middle of its doorway (a few steps) makes the waiter yield.
//!
//! The slot holds two waker cells that only their task writes, and each
//! participant one register saying which cell it is cloning, so that a
//! waker can be replaced while another participant reads it, from loads,
//! stores and fences (see the source's `waker_slot.rs` for the protocol and
//! its invariants, and `bakery.rs` for the waiting room).
//!
//! # Scope
//!
//! Tasks only: an `AsyncLock` has no blocking `lock`, so threads and tasks
//! never share one. `N` participants are fixed when the lock is built; with
//! `std`, any number of tasks can share the `N` by handing participants
//! around (a pool of them in a channel, say), but the lock itself takes no
//! seats for tasks. With `std`, [`AsyncLock::into_participants`] hands out
//! participants that own a share of the lock (`'static` without a static
//! cell, for `tokio::spawn`).
//!
//! # Cost
//!
//! Uncontended, the bakery's own: three stores, two `SeqCst` fences and
//! `3(N − 1)` loads to lock; one store, one `SeqCst` fence and `N − 1`
//! loads to unlock. A waiting task keeps its future (24 bytes on x86-64)
//! and its slot in the lock (two wakers and three 32-bit words); nothing is
//! allocated per waiter. Each poll of a waiting task reads every
//! participant's registers, so the cost grows with `N`: see
//! `benches/README.md` (`async_lock`) for figures beside tokio's mutex.

mod bakery;
pub(crate) mod waker_slot;

use crate::sync::{Lazy, UnsafeCell, lazy};
use bakery::{AsyncRegisters, Waiting};
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::task::{Context, Poll};

/// Every fence of the waker slot, for doorway's loom mutation tests.
#[cfg(hooks)]
pub use waker_slot::{FENCES, ORDERINGS};

/// Data of type `T` guarded by a bakery for `N` participants, for tasks
/// that wait by returning `Pending` (see the [module documentation](self)).
pub struct AsyncLock<const N: usize, T: ?Sized> {
    registers: Lazy<AsyncRegisters<N>>,
    data: UnsafeCell<T>,
}

// SAFETY: the bakery hands `&mut T` to one participant at a time, possibly
// on another thread, which needs `T: Send`, as for `Mutex`; the registers
// are atomics and waker slots (`Sync`, see `waker_slot`).
unsafe impl<const N: usize, T: ?Sized + Send> Sync for AsyncLock<N, T> {}

impl<const N: usize, T> AsyncLock<N, T> {
    /// An unlocked lock holding `value`; `const`, so it can sit in a
    /// `static` (under loom its registers are built at first use; see the
    /// crate documentation, "Under loom").
    pub const fn new(value: T) -> Self {
        Self {
            registers: lazy!(AsyncRegisters::new()),
            data: UnsafeCell::new(value),
        }
    }

    /// A lock whose tickets stop at `limit`, so that tests reach the
    /// bakery's ticket limit quickly.
    #[cfg(all(test, not(loom)))]
    fn with_ticket_limit(value: T, limit: u32) -> Self {
        Self {
            registers: crate::sync::Lazy::new(AsyncRegisters::with_ticket_limit(limit)),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<const N: usize, T: ?Sized> AsyncLock<N, T> {
    /// Hands out `K` participants, numbered `0..K`, for as long as the lock
    /// stays mutably borrowed (a `&'static mut` from a static cell gives
    /// `'static` participants, one to move into each task).
    ///
    /// # Panics
    ///
    /// When `K > N`.
    #[track_caller]
    pub fn participants<const K: usize>(&mut self) -> [AsyncParticipant<'_, N, T>; K] {
        assert!(
            K <= N,
            "doorway: {K} participants requested from an AsyncLock of {N}"
        );
        let lock: &Self = self;
        core::array::from_fn(|index| AsyncParticipant {
            lock,
            index,
            _unique: PhantomData,
        })
    }

    /// A participant for `index`, without the borrow that proves it unique.
    ///
    /// # Panics
    ///
    /// When `index >= N`.
    ///
    /// # Safety
    ///
    /// While the returned participant lives, no other participant with the
    /// same `index` may exist for this lock: not one from
    /// [`participants`](Self::participants), nor another from this
    /// function, in any task or thread. Two participants with one index
    /// write the same single-writer registers (the ticket, the waker
    /// cells), which breaks mutual exclusion and races on the wakers.
    #[track_caller]
    pub unsafe fn participant_unchecked(&self, index: usize) -> AsyncParticipant<'_, N, T> {
        assert!(
            index < N,
            "doorway: participant {index} is out of range for an AsyncLock of {N}"
        );
        AsyncParticipant {
            lock: self,
            index,
            _unique: PhantomData,
        }
    }

    /// Whether some participant holds the lock or is in line (a snapshot).
    pub fn is_locked(&self) -> bool {
        crate::bakery::is_locked(self.registers.get())
    }

    /// Mutable access without locking: `&mut self` already proves exclusivity.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<const N: usize, T: Default> Default for AsyncLock<N, T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<const N: usize, T: ?Sized> fmt::Debug for AsyncLock<N, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncLock")
            .field("participants", &N)
            .field("locked", &self.is_locked())
            .finish_non_exhaustive()
    }
}

/// One participant of an [`AsyncLock`]: the right to lock it under one
/// index. Not `Clone`; move it into the task that will use it.
pub struct AsyncParticipant<'a, const N: usize, T: ?Sized> {
    lock: &'a AsyncLock<N, T>,
    index: usize,
    /// Deliberately neither `Clone` nor `Copy`.
    _unique: PhantomData<&'a mut ()>,
}

impl<'a, const N: usize, T: ?Sized> AsyncParticipant<'a, N, T> {
    /// Locks: a future that takes its place in line when first polled and
    /// is ready when this participant holds the lock. The guard borrows the
    /// participant, so locking again before it is dropped does not compile.
    /// Dropping the future leaves the line without a trace.
    pub fn lock(&mut self) -> Acquire<'_, 'a, N, T> {
        Acquire {
            participant: Some(self),
            at: Waiting::Doorway,
        }
    }

    /// Tries once to lock, without waiting for anyone; `None` when another
    /// participant holds the lock or is on its way in.
    pub fn try_lock(&mut self) -> Option<AsyncGuard<'_, 'a, N, T>> {
        let r = self.lock.registers.get();
        // The bakery's `try_lock`: a failed try that took a ticket withdraws
        // it through this lock's waking half.
        crate::bakery::try_lock(r, self.index).then(|| AsyncGuard {
            participant: self,
            _data: PhantomData,
        })
    }

    /// This participant's index.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl<const N: usize, T: ?Sized> fmt::Debug for AsyncParticipant<'_, N, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncParticipant")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// The future of [`AsyncParticipant::lock`].
#[must_use = "a future does nothing until polled; it takes its place in line at its first poll"]
pub struct Acquire<'p, 'a, const N: usize, T: ?Sized> {
    /// The participant, until the guard takes it.
    participant: Option<&'p mut AsyncParticipant<'a, N, T>>,
    at: Waiting,
}

impl<'p, 'a, const N: usize, T: ?Sized> Future for Acquire<'p, 'a, N, T> {
    type Output = AsyncGuard<'p, 'a, N, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Acquire` is `Unpin`: it holds a reference and a small state.
        let this = self.get_mut();
        let participant = this
            .participant
            .as_deref()
            .expect("doorway: an async acquisition polled after it completed");
        let (lock, me) = (participant.lock, participant.index);
        match lock.registers.get().poll_lock(me, &mut this.at, cx) {
            Poll::Pending => Poll::Pending,
            // The guard takes the participant's borrow; this future is done
            // and its drop undoes nothing.
            Poll::Ready(()) => Poll::Ready(AsyncGuard {
                participant: this.participant.take().unwrap_or_else(|| unreachable!()),
                _data: PhantomData,
            }),
        }
    }
}

impl<const N: usize, T: ?Sized> Drop for Acquire<'_, '_, N, T> {
    fn drop(&mut self) {
        if let Some(participant) = self.participant.as_deref() {
            let (lock, me) = (participant.lock, participant.index);
            lock.registers.get().cancel(me, &mut self.at);
        }
    }
}

impl<const N: usize, T: ?Sized> fmt::Debug for Acquire<'_, '_, N, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("participant", &self.participant.as_ref().map(|p| p.index))
            .field("at", &self.at)
            .finish()
    }
}

/// Access to the data of a locked [`AsyncLock`]; unlocks when dropped.
///
/// `Send` when `T: Send` (a task holding it may move between threads), and
/// `Sync` only when `T` is `Send` and `Sync` as well: a shared guard hands
/// out `&T`, so sharing it shares the data.
///
/// ```compile_fail,E0277
/// use core::cell::Cell;
/// use doorway::asynch::AsyncLock;
///
/// fn shared<T: Sync>(_: &T) {}
/// let lock: &'static mut AsyncLock<1, Cell<u32>> =
///     Box::leak(Box::new(AsyncLock::new(Cell::new(0))));
/// let [mut me] = lock.participants();
/// let guard = me.try_lock().unwrap();
/// // Two threads calling `guard.set(..)` at once would race.
/// shared(&guard);
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct AsyncGuard<'p, 'a, const N: usize, T: ?Sized> {
    participant: &'p mut AsyncParticipant<'a, N, T>,
    /// Neither `Send` nor `Sync` by itself: the impls below say when.
    _data: PhantomData<*const T>,
}

// SAFETY: moving the guard moves the right to `&mut T` to another thread,
// which `T: Send` allows (as for `Mutex`); the unlock it runs on drop works
// from any thread (it stores to the participant's own registers).
unsafe impl<const N: usize, T: ?Sized + Send> Send for AsyncGuard<'_, '_, N, T> {}

// SAFETY: a shared guard only hands out `&T`, to every thread that shares
// it at once, which needs `T: Sync` (and `T: Send` for the lock itself).
unsafe impl<const N: usize, T: ?Sized + Send + Sync> Sync for AsyncGuard<'_, '_, N, T> {}

impl<const N: usize, T: ?Sized> AsyncGuard<'_, '_, N, T> {
    /// The participant index of the holder.
    pub fn index(&self) -> usize {
        self.participant.index
    }
}

impl<const N: usize, T: ?Sized> Deref for AsyncGuard<'_, '_, N, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while its participant holds the
        // lock; the borrow ends before the guard does.
        self.participant.lock.data.with(|data| unsafe { &*data })
    }
}

impl<const N: usize, T: ?Sized> DerefMut for AsyncGuard<'_, '_, N, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only borrow.
        self.participant
            .lock
            .data
            .with_mut(|data| unsafe { &mut *data })
    }
}

impl<const N: usize, T: ?Sized> Drop for AsyncGuard<'_, '_, N, T> {
    #[inline]
    fn drop(&mut self) {
        let r = self.participant.lock.registers.get();
        // The bakery's exit, then this lock's waking half.
        crate::bakery::unlock(r, self.participant.index);
    }
}

impl<const N: usize, T: ?Sized + fmt::Debug> fmt::Debug for AsyncGuard<'_, '_, N, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::task::{Wake, Waker};

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Relaxed);
        }
    }

    fn counter() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter::default());
        (counter.clone(), Waker::from(counter))
    }

    fn poll<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
        Pin::new(future).poll(&mut Context::from_waker(waker))
    }

    /// Participants that own the lock: nothing leaks (Miri checks).
    fn participants<const N: usize>() -> [OwnedParticipant<N, u32>; N] {
        AsyncLock::new(0).into_participants()
    }

    #[test]
    fn each_exit_wakes_the_one_it_lets_through_in_order() {
        let [mut a, mut b, mut c] = participants::<3>();
        let (b_wakes, b_waker) = counter();
        let (c_wakes, c_waker) = counter();
        let held = a.try_lock().unwrap();
        let mut second = b.lock();
        let mut third = c.lock();
        assert!(poll(&mut second, &b_waker).is_pending());
        assert!(poll(&mut third, &c_waker).is_pending());
        drop(held);
        assert_eq!(
            b_wakes.0.load(Relaxed),
            1,
            "the exit wakes the next in line"
        );
        assert_eq!(c_wakes.0.load(Relaxed), 0, "and nobody else");
        assert!(poll(&mut third, &c_waker).is_pending(), "FIFO: third waits");
        let Poll::Ready(guard) = poll(&mut second, &b_waker) else {
            panic!("the woken waiter holds the lock")
        };
        drop(guard);
        assert_eq!(c_wakes.0.load(Relaxed), 1);
        assert!(poll(&mut third, &c_waker).is_ready());
    }

    #[test]
    fn a_woken_waiter_dropped_passes_its_wake_on() {
        let [mut a, mut b, mut c] = participants::<3>();
        let (b_wakes, b_waker) = counter();
        let (c_wakes, c_waker) = counter();
        let held = a.try_lock().unwrap();
        let mut second = b.lock();
        let mut third = c.lock();
        assert!(poll(&mut second, &b_waker).is_pending());
        assert!(poll(&mut third, &c_waker).is_pending());
        drop(held);
        assert_eq!(b_wakes.0.load(Relaxed), 1);
        drop(second);
        assert_eq!(
            c_wakes.0.load(Relaxed),
            1,
            "the withdrawal passes the wake on"
        );
        assert!(poll(&mut third, &c_waker).is_ready());
    }

    #[test]
    fn the_waker_of_the_last_poll_is_woken() {
        let [mut a, mut b] = participants::<2>();
        let (old_wakes, old) = counter();
        let (new_wakes, new) = counter();
        let held = a.try_lock().unwrap();
        let mut waiting = b.lock();
        assert!(poll(&mut waiting, &old).is_pending());
        assert!(poll(&mut waiting, &new).is_pending());
        assert!(poll(&mut waiting, &old).is_pending(), "cell 0 again");
        assert!(poll(&mut waiting, &new).is_pending(), "cell 1 again");
        drop(held);
        assert_eq!(new_wakes.0.load(Relaxed), 1);
        assert_eq!(old_wakes.0.load(Relaxed), 0);
        assert!(poll(&mut waiting, &new).is_ready());
    }

    #[test]
    fn a_future_dropped_unpolled_or_in_line_leaves_no_ticket() {
        let [mut a, mut b] = participants::<2>();
        let (_, waker) = counter();
        drop(b.lock());
        let held = a.try_lock().unwrap();
        let mut waiting = b.lock();
        assert!(poll(&mut waiting, &waker).is_pending());
        drop(waiting);
        drop(held);
        assert!(b.try_lock().is_some(), "b's withdrawn ticket is gone");
        let mut again = a.lock();
        assert!(poll(&mut again, &waker).is_ready());
    }

    #[test]
    fn owned_participants_share_the_lock_and_free_it_last() {
        let [mut a, mut b] =
            AsyncLock::<2, std::vec::Vec<u8>>::new(std::vec![1]).into_participants::<2>();
        let (b_wakes, waker) = counter();
        let mut held = a.try_lock().unwrap();
        held.push(2);
        let mut waiting = b.lock();
        assert!(poll(&mut waiting, &waker).is_pending());
        drop(held);
        drop(a);
        assert_eq!(b_wakes.0.load(Relaxed), 1);
        let Poll::Ready(guard) = poll(&mut waiting, &waker) else {
            panic!("b is next")
        };
        assert_eq!(*guard, [1, 2]);
    }

    /// A waker whose clone panics, as an executor's might.
    fn clone_panics() -> Waker {
        use std::task::{RawWaker, RawWakerVTable};
        fn clone(_: *const ()) -> RawWaker {
            panic!("this waker cannot be cloned")
        }
        fn noop(_: *const ()) {}
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        // SAFETY: the vtable's functions ignore the data pointer.
        unsafe { Waker::from_raw(RawWaker::new(core::ptr::null(), &VTABLE)) }
    }

    #[test]
    fn a_first_poll_that_panics_and_is_dropped_leaves_no_ticket() {
        let [mut a, mut b] = participants::<2>();
        let held = a.try_lock().unwrap();
        let mut waiting = b.lock();
        let panicking = clone_panics();
        // The first poll takes a ticket, then clones the waker to wait.
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = poll(&mut waiting, &panicking);
        }));
        assert!(polled.is_err(), "the waker's clone panicked");
        // As an executor does with a task that panicked.
        drop(waiting);
        drop(held);
        assert!(a.try_lock().is_some(), "b's ticket was left in line");
        assert!(b.try_lock().is_some());
    }

    #[test]
    fn a_waiter_whose_predecessor_withdraws_waits_on_the_next() {
        let [mut a, mut b, mut c] = participants::<3>();
        let (c_wakes, c_waker) = counter();
        let (_, b_waker) = counter();
        let held = a.try_lock().unwrap();
        let mut second = b.lock();
        let mut third = c.lock();
        assert!(poll(&mut second, &b_waker).is_pending());
        assert!(poll(&mut third, &c_waker).is_pending());
        // b was not woken; it gives up in line.
        drop(second);
        assert_eq!(c_wakes.0.load(Relaxed), 1, "the withdrawal wakes c");
        assert!(poll(&mut third, &c_waker).is_pending(), "a still holds");
        drop(held);
        assert_eq!(c_wakes.0.load(Relaxed), 2, "a's exit wakes c");
        assert!(poll(&mut third, &c_waker).is_ready());
    }

    #[test]
    #[should_panic(expected = "polled after it completed")]
    fn a_completed_acquisition_polled_again_panics() {
        let [mut a] = participants::<1>();
        let (_, waker) = counter();
        let mut acquire = a.lock();
        let Poll::Ready(guard) = poll(&mut acquire, &waker) else {
            panic!("alone: ready at once")
        };
        drop(guard);
        let _ = poll(&mut acquire, &waker);
    }

    #[test]
    fn a_forgotten_waiter_keeps_its_place_and_its_participant_panics() {
        let [mut a, mut b] = participants::<2>();
        let (_, waker) = counter();
        let held = a.try_lock().unwrap();
        let mut waiting = b.lock();
        assert!(poll(&mut waiting, &waker).is_pending());
        core::mem::forget(waiting);
        drop(held);
        // Like a thread that never unlocks: b's ticket stays in line.
        assert!(a.try_lock().is_none());
        let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = poll(&mut b.lock(), &waker);
        }));
        assert!(again.is_err(), "b is already in line: locking again panics");
    }

    #[test]
    fn at_the_ticket_limit_a_task_yields_until_the_line_drains() {
        let [mut a, mut b, mut c] =
            AsyncLock::<3, u32>::with_ticket_limit(0, 2).into_participants();
        let (b_wakes, b_waker) = counter();
        let (c_wakes, c_waker) = counter();
        let held = a.try_lock().unwrap(); // ticket 1
        let mut second = b.lock();
        assert!(poll(&mut second, &b_waker).is_pending()); // ticket 2, the limit
        let mut third = c.lock();
        assert!(poll(&mut third, &c_waker).is_pending(), "no ticket left");
        assert_eq!(c_wakes.0.load(Relaxed), 1, "it yields instead of sleeping");
        // Dropped without a ticket, it leaves nothing; a new one tries again.
        drop(third);
        let mut third = c.lock();
        assert!(poll(&mut third, &c_waker).is_pending());
        drop(held);
        assert_eq!(b_wakes.0.load(Relaxed), 1);
        assert!(
            poll(&mut third, &c_waker).is_pending(),
            "ticket 2 is in use"
        );
        let Poll::Ready(guard) = poll(&mut second, &b_waker) else {
            panic!("b is next")
        };
        drop(guard);
        assert!(
            poll(&mut third, &c_waker).is_ready(),
            "the line drained: numbering restarts"
        );
    }

    #[test]
    #[should_panic(expected = "3 participants requested from an AsyncLock of 2")]
    fn more_participants_than_the_lock_has_panics() {
        let mut lock = AsyncLock::<2, u32>::new(0);
        let _ = lock.participants::<3>();
    }

    #[test]
    fn a_failed_try_lock_leaves_the_lock_as_it_was() {
        let [mut a, mut b] = participants::<2>();
        let held = a.try_lock().unwrap();
        assert!(b.try_lock().is_none());
        drop(held);
        assert!(b.try_lock().is_some());
    }
}

#[cfg(feature = "std")]
mod owned {
    use super::{Acquire, AsyncGuard, AsyncLock, AsyncParticipant};
    use core::fmt;
    use core::marker::PhantomData;
    use std::sync::Arc;

    impl<const N: usize, T: 'static> AsyncLock<N, T> {
        /// Moves the lock into an `Arc` and hands out `K` participants that
        /// own a share of it (`'static`, for `tokio::spawn`, with no static
        /// cell): the lock goes away with the last of them. Unique by
        /// construction: the lock is consumed.
        ///
        /// ```
        /// # #[tokio::main(flavor = "current_thread")] async fn main() {
        /// use doorway::asynch::AsyncLock;
        ///
        /// let tasks: Vec<_> = AsyncLock::<4, u64>::new(0)
        ///     .into_participants::<4>()
        ///     .into_iter()
        ///     .map(|mut me| tokio::spawn(async move {
        ///         *me.lock().await += 1;
        ///         me
        ///     }))
        ///     .collect();
        /// let mut last = None;
        /// for task in tasks {
        ///     last = Some(task.await.unwrap());
        /// }
        /// assert_eq!(*last.unwrap().lock().await, 4);
        /// # }
        /// ```
        ///
        /// # Panics
        ///
        /// When `K > N`.
        #[track_caller]
        pub fn into_participants<const K: usize>(self) -> [OwnedParticipant<N, T>; K] {
            assert!(
                K <= N,
                "doorway: {K} participants requested from an AsyncLock of {N}"
            );
            let lock = Arc::new(self);
            core::array::from_fn(|index| {
                // SAFETY: the reference points into the `Arc`'s allocation,
                // which the clone kept beside it keeps alive for as long as
                // the participant exists; it never leaves the participant
                // with a longer lifetime (`OwnedParticipant` hands out only
                // borrows of itself), and it is shared, as `&AsyncLock` is.
                let shared: &'static AsyncLock<N, T> = unsafe { &*Arc::as_ptr(&lock) };
                OwnedParticipant {
                    participant: AsyncParticipant {
                        lock: shared,
                        index,
                        _unique: PhantomData,
                    },
                    _keep: Arc::clone(&lock),
                }
            })
        }
    }

    /// A participant that owns a share of its [`AsyncLock`] (see
    /// [`AsyncLock::into_participants`]); `'static`, so it can move into a
    /// spawned task.
    pub struct OwnedParticipant<const N: usize, T: 'static> {
        /// Declared first: dropped before the share that keeps its lock.
        participant: AsyncParticipant<'static, N, T>,
        _keep: Arc<AsyncLock<N, T>>,
    }

    impl<const N: usize, T: 'static> OwnedParticipant<N, T> {
        /// As [`AsyncParticipant::lock`].
        pub fn lock(&mut self) -> Acquire<'_, 'static, N, T> {
            self.participant.lock()
        }

        /// As [`AsyncParticipant::try_lock`].
        pub fn try_lock(&mut self) -> Option<AsyncGuard<'_, 'static, N, T>> {
            self.participant.try_lock()
        }

        /// This participant's index.
        pub fn index(&self) -> usize {
            self.participant.index
        }
    }

    impl<const N: usize, T: 'static> fmt::Debug for OwnedParticipant<N, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("OwnedParticipant")
                .field("index", &self.participant.index)
                .finish_non_exhaustive()
        }
    }
}

#[cfg(feature = "std")]
pub use owned::OwnedParticipant;
