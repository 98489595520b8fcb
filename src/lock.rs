//! [`Lock<R, T>`]: data guarded by any [`RawLock`], used like `Mutex<T>`.
//!
//! # Invariants
//!
//! - The data is reached only through a [`Guard`], and a guard exists only
//!   between a participant's successful acquisition and its release.
//! - No two live participants of one lock share an index:
//!   [`Lock::participants`] borrows the lock mutably while its handles live, so
//!   it can hand out each index once; threads that call [`Lock::lock`] get
//!   their own seat from [`slot`](crate::slot); the only other source,
//!   [`Lock::participant_unchecked`], is `unsafe` and states the rule.
//! - A participant is borrowed mutably by its guard, so re-entry through a
//!   handle does not compile; re-entry through [`Lock::lock`] reaches the raw
//!   lock, which panics.

use crate::raw::RawLock;
use crate::sync::UnsafeCell;
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

/// Data of type `T` guarded by the raw lock `R`.
///
/// ```
/// use doorway::{Bakery, Lock};
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
pub struct Lock<R: RawLock, T: ?Sized> {
    raw: R,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands `&mut T` to one participant at a time (the `RawLock`
// contract), possibly on another thread, which needs `T: Send`, as for `Mutex`.
unsafe impl<R: RawLock, T: ?Sized + Send> Sync for Lock<R, T> {}

#[cfg(not(loom))]
impl<R: RawLock + crate::raw::ConstInit, T> Lock<R, T> {
    /// An unlocked lock holding `value`; `const`, so it can sit in a `static`.
    pub const fn new(value: T) -> Self {
        Self::from_raw(R::INIT, value)
    }
}

#[cfg(loom)]
impl<R: RawLock, T> Lock<R, T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> Self {
        Self::from_raw(R::default(), value)
    }
}

impl<R: RawLock, T> Lock<R, T> {
    crate::sync::const_fn_unless_loom! {
        /// Wraps `value` in the given raw lock, e.g. one sized at run time.
        pub fn from_raw(raw: R, value: T) -> Self {
            Self {
                raw,
                data: UnsafeCell::new(value),
            }
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
    /// `std` nor compare-and-swap.
    ///
    /// # Panics
    ///
    /// When the raw lock has fewer than `K` participants.
    ///
    /// ```should_panic
    /// let mut lock = doorway::Lock::<doorway::Bakery<2>, u32>::new(0);
    /// let [a, b, c] = lock.participants(); // Bakery<2> has two participants
    /// ```
    pub fn participants<const K: usize>(&mut self) -> [Participant<'_, R, T>; K] {
        let capacity = self.raw.participants();
        assert!(
            K == 0 || capacity.admits(K - 1),
            "{K} participants requested from {}, which has {capacity:?}",
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
    /// knows its own index. Panics if `index` is out of range.
    ///
    /// # Safety
    ///
    /// While the returned participant lives, no other participant with the same
    /// `index` may exist for this lock, and no thread may use the lock through
    /// [`lock`](Self::lock) or [`try_lock`](Self::try_lock) (their seats
    /// could name the same index).
    pub unsafe fn participant_unchecked(&self, index: usize) -> Participant<'_, R, T> {
        assert!(
            self.raw.participants().admits(index),
            "participant {index} is out of range for {}",
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

#[cfg(all(feature = "std", not(loom)))]
impl<R: crate::raw::ThreadParticipant, T: ?Sized> Lock<R, T> {
    /// Locks as the calling thread's participant, claiming one on first use.
    ///
    /// The thread keeps its participant slot until it exits; then the slot is
    /// free for another thread. Re-entry panics, like any deadlock the lock can
    /// see.
    ///
    /// # Panics
    ///
    /// When every participant slot belongs to a live thread, or when the
    /// calling thread already holds this lock.
    ///
    /// ```
    /// use doorway::{Bakery, Lock};
    ///
    /// static TOTAL: Lock<Bakery<8>, u64> = Lock::new(0);
    ///
    /// let workers: Vec<_> = (0..8)
    ///     .map(|_| std::thread::spawn(|| *TOTAL.lock() += 1))
    ///     .collect();
    /// workers.into_iter().for_each(|w| w.join().unwrap());
    /// assert_eq!(*TOTAL.lock(), 8);
    /// ```
    pub fn lock(&self) -> Guard<'_, R, T> {
        let who = self.raw.thread_participant();
        // SAFETY: `who` is this thread's participant, which no other live
        // thread gets, and handles from `participants` cannot coexist with `&self`.
        unsafe { self.raw.lock(who) };
        Guard::new(self, who)
    }

    /// Tries once to lock as the calling thread's participant, without waiting.
    ///
    /// # Panics
    ///
    /// As for [`lock`](Self::lock).
    pub fn try_lock(&self) -> Option<Guard<'_, R, T>> {
        let who = self.raw.thread_participant();
        // SAFETY: as in `lock`.
        unsafe { self.raw.try_lock(who) }.then(|| Guard::new(self, who))
    }
}

impl<R: RawLock, T: Default> Default for Lock<R, T> {
    fn default() -> Self {
        Self::from_raw(R::default(), T::default())
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
pub struct Participant<'a, R: RawLock, T: ?Sized> {
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
    /// let mut lock = doorway::Lock::<doorway::Bakery<2>, u32>::new(0);
    /// let [mut a, _b] = lock.participants();
    /// let first = a.lock();
    /// let second = a.lock(); // re-entry: `a` is already borrowed by `first`
    /// ```
    pub fn lock(&mut self) -> Guard<'_, R, T> {
        // SAFETY: this participant is the only one with its index (see the
        // constructors), and `&mut self` keeps it to one call at a time.
        unsafe { self.lock.raw.lock(self.index) };
        Guard::new(self.lock, self.index)
    }

    /// Tries once to lock, without waiting for anyone.
    pub fn try_lock(&mut self) -> Option<Guard<'_, R, T>> {
        // SAFETY: as in `lock`.
        unsafe { self.lock.raw.try_lock(self.index) }.then(|| Guard::new(self.lock, self.index))
    }

    /// This participant's index.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl<R: RawLock, T: ?Sized> fmt::Debug for Participant<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Participant")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// Access to the data of a locked [`Lock`]; unlocks when dropped.
///
/// Not `Send`: a guard from [`Lock::lock`] belongs to the thread whose seat it
/// holds.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct Guard<'a, R: RawLock, T: ?Sized> {
    lock: &'a Lock<R, T>,
    who: usize,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing a guard shares `&T` only, as for `MutexGuard`.
unsafe impl<R: RawLock, T: ?Sized + Sync> Sync for Guard<'_, R, T> {}

impl<'a, R: RawLock, T: ?Sized> Guard<'a, R, T> {
    /// A guard for `who`, which must have just acquired `lock`'s raw lock.
    pub(crate) fn new(lock: &'a Lock<R, T>, who: usize) -> Self {
        Self {
            lock,
            who,
            _not_send: PhantomData,
        }
    }

    /// The index of the participant holding the lock.
    pub fn participant(&self) -> usize {
        self.who
    }
}

impl<R: RawLock, T: ?Sized> Deref for Guard<'_, R, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while `who` holds the lock, so no one
        // else is accessing the data; the borrow ends before the guard does.
        self.lock.data.with(|data| unsafe { &*data })
    }
}

impl<R: RawLock, T: ?Sized> DerefMut for Guard<'_, R, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only borrow.
        self.lock.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<R: RawLock, T: ?Sized> Drop for Guard<'_, R, T> {
    fn drop(&mut self) {
        // SAFETY: `who` acquired the lock when this guard was made and has not
        // released it; the guard is dropped once.
        unsafe { self.lock.raw.unlock(self.who) }
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
