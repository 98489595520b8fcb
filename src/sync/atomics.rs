//! Atomics, the cell for guarded data, per-thread values and late
//! construction: `core`'s versions normally, loom's under `--cfg loom`.
//!
//! Three things differ under loom, each behind a name that reads the same in
//! both builds:
//!
//! - loom's atomics cannot be built in `const` context. Constructors that only
//!   build atomics are declared with [`const_fn_unless_loom!`]: `const` in a
//!   normal build, plain functions under loom, where they create the atomics
//!   at once.
//! - a lock's registers sit in a [`Lazy`]. It is transparent outside loom.
//!   Under loom it lets `const` items (`ConstInit::INIT`, `Lock::new`, lock_api's
//!   `RawMutex::INIT`) exist as well: the registers are created by the first
//!   thread that uses the lock, and loom is told that this creation happens
//!   before every other thread's use (see [`Lazy`]).
//! - per-thread values (the seat token) use `loom::thread_local!`, because
//!   loom's threads share one OS thread and so share its `std` thread-locals.

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicU8, AtomicU32, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, AtomicU32, Ordering};
// Seat words are word-sized; seats exist only with `std`.
#[cfg(threads)]
pub(crate) use core::sync::atomic::AtomicUsize;
#[cfg(all(loom, feature = "std"))]
pub(crate) use loom::sync::atomic::AtomicUsize;

// The Paxos register packs a block into one 64-bit word where the target has
// 64-bit atomics; elsewhere it uses a sequence-counter latch of 32-bit words.
#[cfg(all(not(loom), target_has_atomic = "64"))]
pub(crate) use core::sync::atomic::AtomicU64;
#[cfg(all(loom, target_has_atomic = "64"))]
pub(crate) use loom::sync::atomic::AtomicU64;

pub(crate) use crossbeam_utils::CachePadded;

/// Declares a constructor that is `const fn` except under loom, whose atomics
/// cannot be created in `const` context.
macro_rules! const_fn_unless_loom {
    ($(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$attr])*
        #[cfg(not(loom))]
        $vis const fn $name($($arg: $ty),*) -> $ret $body

        $(#[$attr])*
        #[cfg(loom)]
        $vis fn $name($($arg: $ty),*) -> $ret $body
    };
}
pub(crate) use const_fn_unless_loom;

/// An array of `N` values built by `$make`, in `const` context outside loom.
macro_rules! array_of {
    ($make:expr; $n:expr) => {{
        #[cfg(not(loom))]
        let array = [const { $make }; $n];
        #[cfg(loom)]
        let array = core::array::from_fn(|_| $make);
        array
    }};
}
pub(crate) use array_of;

/// Builds a [`Lazy`] in `const` context: the value itself outside loom, a
/// recipe for it under loom (a closure that captures nothing).
macro_rules! lazy {
    ($make:expr) => {{
        #[cfg(not(loom))]
        let lazy = $crate::sync::Lazy::new($make);
        #[cfg(loom)]
        let lazy = $crate::sync::Lazy::pending(|| $make);
        lazy
    }};
}
pub(crate) use lazy;

/// A lock's shared registers, buildable in `const` context in every build.
///
/// Outside loom this is the value itself, and [`get`](Self::get) compiles to
/// nothing.
#[cfg(not(loom))]
#[repr(transparent)]
pub(crate) struct Lazy<T>(T);

#[cfg(not(loom))]
impl<T> Lazy<T> {
    /// The registers, ready.
    pub(crate) const fn new(value: T) -> Self {
        Lazy(value)
    }

    #[inline(always)]
    pub(crate) fn get(&self) -> &T {
        &self.0
    }
}

/// A lock's shared registers, buildable in `const` context in every build.
///
/// Under loom, a value made by [`new`](Self::new) at run time is ready at
/// once. A value made in `const` context ([`pending`](Self::pending)) holds
/// only the recipe; the first thread that uses it creates the registers and,
/// through a `loom::lazy_static` edge, tells loom that the creation happens
/// before every later use by any thread, as a `OnceLock` would. That edge
/// also carries what the first thread did before its first use of the lock,
/// which the real program (where `INIT` is a constant) does not order: a read
/// of such data after a *failed* `try_lock` is therefore not reported by
/// loom. Everything else keeps its real ordering.
///
/// A loom execution rebuilds everything it uses; a value used in two
/// executions (a `static`) panics with a message that says so.
#[cfg(loom)]
pub(crate) struct Lazy<T> {
    make: Option<fn() -> T>,
    built: std::sync::OnceLock<Built<T>>,
}

#[cfg(loom)]
struct Built<T> {
    value: T,
    /// The once-edge, and the loom execution the value belongs to; `None` for
    /// a value built at run time, which needs neither.
    edge: Option<(&'static loom::lazy_static::Lazy<u64>, u64)>,
}

#[cfg(loom)]
impl<T> Lazy<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            make: None,
            built: std::sync::OnceLock::from(Built { value, edge: None }),
        }
    }

    pub(crate) const fn pending(make: fn() -> T) -> Self {
        Self {
            make: Some(make),
            built: std::sync::OnceLock::new(),
        }
    }

    pub(crate) fn get(&self) -> &T {
        // Building makes no loom step, so no other loom thread runs between
        // the check and the creation: exactly one thread builds.
        let built = self.built.get_or_init(|| {
            let make = self.make.expect("a Lazy without a value has a recipe");
            let value = make();
            let edge: &'static loom::lazy_static::Lazy<u64> =
                std::boxed::Box::leak(std::boxed::Box::new(loom::lazy_static::Lazy {
                    init: next_execution_mark,
                    _p: core::marker::PhantomData,
                }));
            let mark = *edge.get();
            Built {
                value,
                edge: Some((edge, mark)),
            }
        });
        if let Some((edge, mark)) = built.edge {
            // Every use joins the builder's edge; in a later execution the
            // edge is initialized afresh and yields a new mark.
            assert!(
                *edge.get() == mark,
                "doorway under loom: a lock built in `const` context (a `static`?) was used in \
                 two loom executions; loom rebuilds everything per execution, so build the lock \
                 inside the model, or behind `loom::lazy_static!`"
            );
        }
        &built.value
    }
}

/// A number unique to each (execution, lazily built value) pair.
#[cfg(loom)]
fn next_execution_mark() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A cell for data that the crate's own synchronization protects.
///
/// The API follows loom's `UnsafeCell`, so that under loom every access is
/// checked for a happens-before relation with the previous conflicting one.
#[cfg(not(loom))]
#[derive(Debug, Default)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(not(loom))]
impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a pointer for shared access.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for exclusive access.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }

    /// Exclusive access through an exclusive borrow: no synchronization needed.
    #[inline(always)]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0.get_mut()
    }
}

/// A cell for data that the crate's own synchronization protects.
///
/// Under loom the data sits in a plain cell and every access is reported to a
/// loom cell of `()`, created by the first access. That keeps `new` a `const
/// fn` and works for unsized data. The creation needs no edge of its own: the
/// first access is made under the lock (or with `&mut`), and every later
/// access is ordered after it by the same lock.
#[cfg(loom)]
pub(crate) struct UnsafeCell<T: ?Sized> {
    tracker: std::sync::OnceLock<loom::cell::UnsafeCell<()>>,
    data: core::cell::UnsafeCell<T>,
}

#[cfg(loom)]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self {
            tracker: std::sync::OnceLock::new(),
            data: core::cell::UnsafeCell::new(value),
        }
    }

    pub(crate) fn into_inner(self) -> T {
        if let Some(tracker) = self.tracker.get() {
            tracker.with_mut(|_| ());
        }
        self.data.into_inner()
    }
}

#[cfg(loom)]
impl<T: ?Sized> UnsafeCell<T> {
    fn tracker(&self) -> &loom::cell::UnsafeCell<()> {
        self.tracker.get_or_init(|| loom::cell::UnsafeCell::new(()))
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        self.tracker().with(|_| f(self.data.get()))
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        self.tracker().with_mut(|_| f(self.data.get()))
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        if let Some(tracker) = self.tracker.get() {
            tracker.with_mut(|_| ());
        }
        self.data.get_mut()
    }
}

#[cfg(loom)]
impl<T: ?Sized + core::fmt::Debug> core::fmt::Debug for UnsafeCell<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("UnsafeCell { .. }")
    }
}

#[cfg(loom)]
impl<T: Default> Default for UnsafeCell<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

/// Declares a per-thread `Cell` with a `const` initial value and no
/// destructor, so that it can be read at any moment of a thread's life,
/// including from other thread-locals' destructors. Under loom it is one per
/// loom thread.
#[cfg(feature = "std")]
macro_rules! thread_local_cell {
    ($(#[$attr:meta])* static $name:ident: Cell<$ty:ty> = $init:expr;) => {
        #[cfg(not(loom))]
        std::thread_local! {
            $(#[$attr])*
            static $name: core::cell::Cell<$ty> = const { core::cell::Cell::new($init) };
        }
        #[cfg(loom)]
        loom::thread_local! {
            $(#[$attr])*
            static $name: core::cell::Cell<$ty> = core::cell::Cell::new($init);
        }
    };
}
#[cfg(feature = "std")]
pub(crate) use thread_local_cell;
