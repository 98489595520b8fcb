//! [`Lock<R, T>`]: data guarded by any [`RawLock`].
//!
//! # Invariants
//!
//! 1. The data is reached only through a [`Guard`], and a guard exists only
//!    between a participant's successful acquisition and its release.
//! 2. No two live acquisitions of one lock use the same participant index:
//!    [`Lock::participants`] borrows the lock mutably while its handles live,
//!    so it can hand out each index once; [`Lock::lock`] takes a
//!    [seat](crate::seats) for each acquisition, which no other thread can take
//!    while it is busy; the only other source, [`Lock::participant_unchecked`],
//!    is `unsafe` and states the rule.
//! 3. A participant is borrowed mutably by its guard, so re-entry through a
//!    handle does not compile; re-entry through [`Lock::lock`] finds the
//!    thread's own busy seat and panics, and [`Lock::try_lock`] returns `None`.

use crate::raw::RawLock;
use crate::sync::UnsafeCell;
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

/// Data of type `T` guarded by the raw lock `R`: a mutex built on one of
/// doorway's algorithms.
///
/// Two ways in: [`participants`](Self::participants) hands out one
/// [`Participant`] per index (no `std`, no read-modify-write), and, with
/// `std`, [`lock`](Self::lock) works from any thread, taking one of the lock's
/// seats for each acquisition.
///
/// ```
/// use doorway::{bakery::Bakery, Lock};
///
/// let mut counter = Lock::<Bakery<4>, u64>::new(0);
/// std::thread::scope(|s| {
///     for mut participant in counter.participants::<4>() {
///         s.spawn(move || {
///             for _ in 0..1000 {
///                 *participant.lock() += 1;
///             }
///         });
///     }
/// });
/// assert_eq!(counter.into_inner(), 4000);
/// ```
///
/// # No poisoning
///
/// Unlike `std::sync::Mutex`, and like `parking_lot::Mutex`, a `Lock` is not
/// poisoned when a thread panics while holding it: the guard's destructor
/// releases the lock during unwinding, and the next holder sees the data as
/// the panicking thread left it, possibly half-updated. If a panic can
/// interrupt an update, restore the invariant in a drop guard of your own, or
/// catch the panic and repair the data before releasing.
pub struct Lock<R, T: ?Sized> {
    raw: R,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands `&mut T` to one participant at a time (the `RawLock`
// contract), possibly on another thread, which needs `T: Send`, as for `Mutex`.
unsafe impl<R: RawLock, T: ?Sized + Send> Sync for Lock<R, T> {}

impl<R: RawLock + crate::raw::ConstInit, T> Lock<R, T> {
    /// An unlocked lock holding `value`; `const`, so it can sit in a `static`.
    ///
    /// Under `--cfg loom` it is `const` too; the raw lock's registers are then
    /// created by the first thread that uses the lock (see the crate
    /// documentation, "Under loom").
    pub const fn new(value: T) -> Self {
        Self::from_raw(R::INIT, value)
    }
}

impl<R: RawLock, T> Lock<R, T> {
    /// Wraps `value` in the given raw lock, e.g. one sized at run time.
    pub const fn from_raw(raw: R, value: T) -> Self {
        Self {
            raw,
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<R: RawLock, T: ?Sized> Lock<R, T> {
    /// Hands out `K` participants, numbered `0..K`, for as long as the lock
    /// stays mutably borrowed.
    ///
    /// The borrow is what makes them unique: no one can ask again, or lock
    /// through [`lock`](Self::lock), until every handle is gone. Needs neither
    /// `std` nor read-modify-write.
    ///
    /// # Panics
    ///
    /// When the raw lock has fewer than `K` participants.
    ///
    /// ```should_panic
    /// let mut lock = doorway::Lock::<doorway::bakery::Bakery<2>, u32>::new(0);
    /// let [a, b, c] = lock.participants(); // Bakery<2> has two participants
    /// ```
    #[track_caller]
    pub fn participants<const K: usize>(&mut self) -> [Participant<'_, R, T>; K] {
        let capacity = self.raw.participants();
        assert!(
            K == 0 || capacity.admits(K - 1),
            "doorway: {K} participants requested from {}, which has {capacity:?}",
            core::any::type_name::<R>()
        );
        let lock: &Self = self;
        core::array::from_fn(|index| Participant {
            lock,
            index,
            _unique: PhantomData,
        })
    }

    /// A participant for `index`, without the borrow that proves it unique.
    ///
    /// For locks in `static`s on targets without `std`, where each core or task
    /// knows its own index.
    ///
    /// # Panics
    ///
    /// When `index` is out of range.
    ///
    /// # Safety
    ///
    /// While the returned participant lives, no other participant with the same
    /// `index` may exist for this lock, and no thread may use the lock through
    /// [`lock`](Self::lock) or [`try_lock`](Self::try_lock) (their seats
    /// could name the same index).
    #[track_caller]
    pub unsafe fn participant_unchecked(&self, index: usize) -> Participant<'_, R, T> {
        assert!(
            self.raw.participants().admits(index),
            "doorway: participant {index} is out of range for {}",
            core::any::type_name::<R>()
        );
        Participant {
            lock: self,
            index,
            _unique: PhantomData,
        }
    }

    /// Whether some participant holds the lock or is on its way in (a snapshot).
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// The raw lock, for callers that manage participants themselves.
    pub fn raw(&self) -> &R {
        &self.raw
    }

    /// Mutable access without locking: `&mut self` already proves exclusivity.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

#[cfg(feature = "std")]
mod seated {
    use super::{Guard, Lock};
    use crate::raw::{Seated, Withdraw};
    use crate::seats::{self, OnReentry, Place};
    use crate::sync::{Forever, Patience, Until};
    use std::time::{Duration, Instant};

    impl<R: Seated, T: ?Sized> Lock<R, T> {
        /// Locks from any thread, waiting as long as it takes.
        ///
        /// The calling thread takes one of the lock's seats (its own from last
        /// time, if it is still idle: one compare-and-swap) for this
        /// acquisition and gives it back when the guard drops. Any number of
        /// threads may lock; at most as many as the lock has participants are
        /// inside `lock` or the critical section at once, and the others wait
        /// for a seat. See [`seats`](crate::seats) for the fairness this gives.
        ///
        /// # Panics
        ///
        /// When the calling thread already holds this lock (re-entry), or
        /// leaked a guard of it (`mem::forget`): it would wait for itself
        /// forever.
        ///
        /// ```
        /// use doorway::{bakery::Bakery, Lock};
        ///
        /// static TOTAL: Lock<Bakery<2>, u64> = Lock::new(0);
        ///
        /// // Sixteen threads share the bakery's two seats.
        /// let workers: Vec<_> = (0..16)
        ///     .map(|_| std::thread::spawn(|| *TOTAL.lock() += 1))
        ///     .collect();
        /// workers.into_iter().for_each(|w| w.join().unwrap());
        /// assert_eq!(*TOTAL.lock(), 16);
        /// ```
        #[track_caller]
        #[inline]
        pub fn lock(&self) -> Guard<'_, R, T> {
            let sitting =
                seats::acquire(&self.raw, Place::Any, Forever, OnReentry::Panic, |me, _| {
                    // SAFETY: the seat is this thread's until it is given back (or
                    // the lock's participants are anonymous), and no handle from
                    // `participants` can coexist with `&self`.
                    unsafe { self.raw.lock(me) };
                    true
                });
            Guard::seated(self, sitting.expect("a lock that never gives up"))
        }

        /// Tries once to lock from any thread, without waiting for anyone.
        ///
        /// Returns `None` when another thread holds the lock or is on its way
        /// in, when every seat is busy, and when the calling thread already
        /// holds this lock.
        #[inline]
        pub fn try_lock(&self) -> Option<Guard<'_, R, T>> {
            // The quiet look: a lock that is held, or that anyone is entering,
            // fails here before the seat or the lock's registers are written.
            if self.raw.is_locked() {
                return None;
            }
            let sitting = seats::acquire(
                &self.raw,
                Place::Any,
                seats::at_once(),
                OnReentry::Fail,
                // SAFETY: as in `lock`.
                |me, _| unsafe { self.raw.try_lock(me) },
            )?;
            Some(Guard::seated(self, sitting))
        }
    }

    impl<R: Seated + Withdraw, T: ?Sized> Lock<R, T> {
        /// Locks from any thread, waiting at most `timeout`; `None` if the
        /// time ran out (or the calling thread already holds this lock). A
        /// waiter that times out leaves the line without a trace, and the
        /// waiters behind it keep their order.
        ///
        /// ```
        /// use doorway::{bakery::Bakery, Lock};
        /// use std::time::Duration;
        ///
        /// let lock = Lock::<Bakery<2>, u32>::new(0);
        /// let held = lock.lock();
        /// std::thread::scope(|s| {
        ///     s.spawn(|| assert!(lock.try_lock_for(Duration::from_millis(10)).is_none()));
        /// });
        /// drop(held);
        /// assert!(lock.try_lock_for(Duration::from_millis(10)).is_some());
        /// ```
        pub fn try_lock_for(&self, timeout: Duration) -> Option<Guard<'_, R, T>> {
            match Instant::now().checked_add(timeout) {
                Some(deadline) => self.try_lock_until(deadline),
                None => self.try_lock_held_or(Forever),
            }
        }

        /// Locks from any thread, waiting until `deadline` at most; see
        /// [`try_lock_for`](Self::try_lock_for).
        pub fn try_lock_until(&self, deadline: Instant) -> Option<Guard<'_, R, T>> {
            self.try_lock_held_or(Until(deadline))
        }

        /// Like `lock`, but `None` on re-entry, and withdrawing once
        /// `patience` runs out (a waiter sleeps until its deadline at most).
        fn try_lock_held_or(&self, patience: impl Patience) -> Option<Guard<'_, R, T>> {
            let sitting = seats::acquire(
                &self.raw,
                Place::Any,
                patience,
                OnReentry::Fail,
                // SAFETY: as in `lock`.
                |me, patience| unsafe { self.raw.lock_patiently(me, patience) },
            )?;
            Some(Guard::seated(self, sitting))
        }
    }
}

impl<R: RawLock, T: Default> Default for Lock<R, T>
where
    R: crate::raw::ConstInit,
{
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<R: RawLock, T: ?Sized> fmt::Debug for Lock<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Reading the data would need a participant; say what can be seen.
        f.debug_struct("Lock")
            .field("raw", &core::any::type_name::<R>())
            .field("locked", &self.is_locked())
            .finish_non_exhaustive()
    }
}

/// One participant of a [`Lock`]: the right to lock it under one index.
///
/// Not `Clone`: an index has one owner. Send it to the thread that will use it.
pub struct Participant<'a, R, T: ?Sized> {
    lock: &'a Lock<R, T>,
    index: usize,
    /// `Participant` is deliberately neither `Clone` nor `Copy`.
    _unique: PhantomData<&'a mut ()>,
}

impl<R: RawLock, T: ?Sized> Participant<'_, R, T> {
    /// Locks, waiting as long as it takes. The guard borrows the participant,
    /// so locking again before the guard is dropped does not compile:
    ///
    /// ```compile_fail,E0499
    /// let mut lock = doorway::Lock::<doorway::bakery::Bakery<2>, u32>::new(0);
    /// let [mut a, _b] = lock.participants();
    /// let first = a.lock();
    /// let second = a.lock(); // re-entry: `a` is already borrowed by `first`
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock(&mut self) -> Guard<'_, R, T> {
        // SAFETY: this participant is the only one with its index (see the
        // constructors), and `&mut self` keeps it to one call at a time.
        unsafe { self.lock.raw.lock(self.index) };
        Guard::new(self.lock, self.index)
    }

    /// Tries once to lock, without waiting for anyone.
    #[track_caller]
    #[inline]
    pub fn try_lock(&mut self) -> Option<Guard<'_, R, T>> {
        // SAFETY: as in `lock`.
        unsafe { self.lock.raw.try_lock(self.index) }.then(|| Guard::new(self.lock, self.index))
    }

    /// Locks, asking `give_up` between looks while it waits; once it returns
    /// `true` the participant leaves the line without a trace and this
    /// returns `None`. For timeouts without `std`: `give_up` can read a
    /// platform timer.
    pub fn lock_unless(&mut self, give_up: impl FnMut() -> bool) -> Option<Guard<'_, R, T>>
    where
        R: crate::raw::Withdraw,
    {
        // SAFETY: as in `lock`.
        unsafe { self.lock.raw.lock_unless(self.index, give_up) }
            .then(|| Guard::new(self.lock, self.index))
    }

    /// Locks, waiting at most `timeout`; `None` if the time ran out.
    #[cfg(feature = "std")]
    pub fn try_lock_for(&mut self, timeout: std::time::Duration) -> Option<Guard<'_, R, T>>
    where
        R: crate::raw::Withdraw,
    {
        let locked = match std::time::Instant::now().checked_add(timeout) {
            // SAFETY: as in `lock`.
            Some(deadline) => unsafe {
                self.lock
                    .raw
                    .lock_patiently(self.index, crate::sync::Until(deadline))
            },
            // SAFETY: as in `lock`.
            None => unsafe {
                self.lock
                    .raw
                    .lock_patiently(self.index, crate::sync::Forever)
            },
        };
        locked.then(|| Guard::new(self.lock, self.index))
    }

    /// This participant's index, `0..N`.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl<R, T: ?Sized> fmt::Debug for Participant<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Participant")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// Access to the data of a locked [`Lock`]; unlocks when dropped.
///
/// Not `Send`: a guard from [`Lock::lock`] holds its thread's seat.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct Guard<'a, R: RawLock, T: ?Sized> {
    lock: &'a Lock<R, T>,
    me: usize,
    /// The seat this acquisition took, for a guard made by `Lock::lock` or
    /// a pinned handle.
    #[cfg(feature = "std")]
    seat: Option<crate::seats::Sitting<'a>>,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing a guard shares `&T` only, as for `MutexGuard`.
unsafe impl<R: RawLock, T: ?Sized + Sync> Sync for Guard<'_, R, T> {}

impl<'a, R: RawLock, T: ?Sized> Guard<'a, R, T> {
    /// A guard for `me`, a participant handed out by `participants` that
    /// must have just acquired `lock`'s raw lock.
    #[inline]
    pub(crate) fn new(lock: &'a Lock<R, T>, me: usize) -> Self {
        Self {
            lock,
            me,
            #[cfg(feature = "std")]
            seat: None,
            _not_send: PhantomData,
        }
    }

    /// A guard for a seated acquisition of `lock`'s raw lock that just
    /// succeeded; dropping it gives the seat back.
    #[cfg(feature = "std")]
    #[inline]
    pub(crate) fn seated(lock: &'a Lock<R, T>, sitting: crate::seats::Sitting<'a>) -> Self {
        Self {
            lock,
            me: sitting.participant,
            seat: Some(sitting),
            _not_send: PhantomData,
        }
    }

    /// The participant index of the holder: the participant whose registers
    /// this acquisition uses.
    pub fn index(&self) -> usize {
        self.me
    }

    /// The participant index of the holder; renamed [`index`](Self::index),
    /// as on [`Participant`].
    #[deprecated(since = "0.2.0", note = "renamed `index`, as on `Participant`")]
    pub fn participant(&self) -> usize {
        self.index()
    }
}

impl<R: RawLock, T: ?Sized> Deref for Guard<'_, R, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while `me` holds the lock, so no one
        // else is accessing the data; the borrow ends before the guard does.
        self.lock.data.with(|data| unsafe { &*data })
    }
}

impl<R: RawLock, T: ?Sized> DerefMut for Guard<'_, R, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only borrow.
        self.lock.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<R: RawLock, T: ?Sized> Drop for Guard<'_, R, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `me` acquired the lock when this guard was made and has not
        // released it; the guard is dropped once.
        unsafe { self.lock.raw.unlock(self.me) };
        #[cfg(feature = "std")]
        if let Some(sitting) = self.seat {
            sitting.leave();
        }
    }
}

impl<R: RawLock, T: ?Sized + fmt::Debug> fmt::Debug for Guard<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<R: RawLock, T: ?Sized + fmt::Display> fmt::Display for Guard<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
