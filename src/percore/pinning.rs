//! Pinned per-core handles and the machine-sized per-core bakery (`std`).
//!
//! [`Lock::pin`] pins the calling thread to a core with `core_affinity` and
//! holds that core's register, as a pinned [seat](crate::seats), until the
//! [`Pinned`] handle is dropped. No other thread can take a pinned seat, so the
//! handle locks with no seat operation at all; [`Lock::lock`] on the same
//! thread uses the pinned core too.
//!
//! Under `--cfg loom` every loom thread runs on one OS thread, so `pin` holds
//! the core's register without moving the thread.

use super::{PerCoreBakery, Register, Storage, sealed};
use crate::lock::{Guard, Lock};
use crate::seats::{self, OnReentry, Place, Seat, Table};
use crate::sync::sleep::WakeWord;
use crate::sync::{AtomicU32, Beds, CachePadded, Forever, Lobby};
use std::boxed::Box;
use std::marker::PhantomData;

/// The cores this process may run on, as `core_affinity` listed them the
/// first time a per-core lock asked. Core index `c` is entry `c`.
#[cfg(not(loom))]
fn machine_cores() -> &'static [core_affinity::CoreId] {
    static CORES: std::sync::OnceLock<Box<[core_affinity::CoreId]>> = std::sync::OnceLock::new();
    CORES.get_or_init(|| core_affinity::get_core_ids().unwrap_or_default().into())
}

/// How many cores the machine offers this process (at least 1).
fn machine_core_count() -> usize {
    #[cfg(not(loom))]
    let listed = machine_cores().len();
    #[cfg(loom)]
    let listed = 0;
    match listed {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Pins the calling thread to core `core` of the machine; whether it worked.
fn pin_thread(core: usize) -> bool {
    #[cfg(not(loom))]
    return machine_cores()
        .get(core)
        .is_some_and(|&id| core_affinity::set_for_current(id));
    // Loom's threads share one OS thread: there is nothing to move.
    #[cfg(loom)]
    return core < machine_core_count();
}

/// Registers for as many cores as the machine has, sized at run time: the
/// storage of [`MachinePerCore`].
pub struct Machine {
    registers: Box<[Register]>,
    asleep: AtomicU32,
    wake: Box<[WakeWord]>,
    seats: Box<[Seat]>,
    /// Where threads that find every core's seat busy or pinned sleep.
    lobby: Lobby,
}

impl sealed::Storage for Machine {
    #[inline(always)]
    fn registers(&self) -> &[Register] {
        &self.registers
    }

    #[inline(always)]
    fn beds(&self) -> Beds<'_> {
        Beds {
            asleep: &self.asleep,
            words: &self.wake,
        }
    }

    #[inline(always)]
    fn seats(&self) -> Table<'_> {
        Table::of(&self.seats, &self.lobby)
    }
}

impl Storage for Machine {}

/// The per-core bakery sized at run time to the machine's cores.
pub type MachinePerCore = PerCoreBakery<Machine>;

impl PerCoreBakery<Machine> {
    /// An unlocked per-core bakery with one register per core this process
    /// may run on, as `core_affinity` listed them when a per-core lock first
    /// asked (build the first one before pinning any thread).
    pub fn new() -> Self {
        Self::with_cores(machine_core_count())
    }

    /// An unlocked per-core bakery with registers for `cores` cores; only the
    /// first cores of the machine can be [pinned](Lock::pin), the others are
    /// reached through [`Lock::participants`] or [`Lock::lock`].
    ///
    /// # Panics
    ///
    /// When `cores` is 0 or above [`TICKET_LIMIT`](super::TICKET_LIMIT).
    #[track_caller]
    pub fn with_cores(cores: usize) -> Self {
        assert!(
            0 < cores && cores <= super::TICKET_LIMIT as usize,
            "doorway: a per-core bakery needs between 1 and {} cores, not {cores}",
            super::TICKET_LIMIT
        );
        let storage = Machine {
            registers: (0..cores)
                .map(|_| CachePadded::new(AtomicU32::new(0)))
                .collect(),
            asleep: AtomicU32::new(0),
            wake: (0..cores).map(|_| WakeWord::new()).collect(),
            seats: (0..cores).map(|_| Seat::new()).collect(),
            lobby: Lobby::new(),
        };
        Self::with_storage(storage, super::TICKET_LIMIT)
    }
}

impl Default for PerCoreBakery<Machine> {
    /// Sized to the machine, as [`new`](Self::new).
    fn default() -> Self {
        Self::new()
    }
}

/// Why [`Lock::pin`] could not hand out a core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinError {
    /// The lock has registers for `cores` cores only.
    NoSuchCore {
        /// The core asked for.
        core: usize,
        /// How many cores the lock has.
        cores: usize,
    },
    /// Another thread holds this core of this lock: pinned, or locking
    /// through it right now.
    CoreTaken {
        /// The core asked for.
        core: usize,
    },
    /// The calling thread already holds core `held` of this lock, pinned or
    /// inside [`Lock::lock`]; a thread uses one core per lock.
    AlreadyHolding {
        /// The core the thread holds.
        held: usize,
    },
    /// The operating system did not pin the thread to the core (it is not
    /// one this process may run on).
    CannotPin {
        /// The core asked for.
        core: usize,
    },
}

impl core::fmt::Display for PinError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            PinError::NoSuchCore { core, cores } => {
                write!(f, "core {core} does not exist: the lock has {cores} cores")
            }
            PinError::CoreTaken { core } => write!(
                f,
                "core {core} of this lock is held by another thread; \
                 two threads must never hold one core"
            ),
            PinError::AlreadyHolding { held } => write!(
                f,
                "this thread already holds core {held} of this lock; a thread uses one core per lock"
            ),
            PinError::CannotPin { core } => write!(
                f,
                "the operating system did not pin this thread to core {core}"
            ),
        }
    }
}

impl std::error::Error for PinError {}

impl<S: Storage, T: ?Sized> Lock<PerCoreBakery<S>, T> {
    /// Pins the calling thread to core `core` and holds that core's register:
    /// the thread's per-core handle.
    ///
    /// The hold lasts until the handle is dropped; the thread stays pinned
    /// (and threads it spawns inherit the pinning). While it lasts,
    /// [`Lock::lock`] on this thread uses the same core, and no other thread
    /// can take it. Under `--cfg loom` the thread is not moved (loom's threads
    /// share one OS thread), only the register is held.
    ///
    /// # Errors
    ///
    /// [`PinError`] when the core does not exist, when another thread holds
    /// it, when this thread already holds a core of this lock, or when the
    /// operating system refuses to pin the thread.
    ///
    /// ```
    /// use doorway::{Lock, percore::MachinePerCore, percore::PinError};
    ///
    /// let lock = Lock::from_raw(MachinePerCore::new(), ());
    /// let mine = lock.pin(0).expect("core 0 is free");
    /// std::thread::scope(|s| {
    ///     let theirs = s.spawn(|| lock.pin(0).err()).join().unwrap();
    ///     assert_eq!(theirs, Some(PinError::CoreTaken { core: 0 }));
    /// });
    /// drop(mine);
    /// ```
    pub fn pin(&self, core: usize) -> Result<Pinned<'_, S, T>, PinError> {
        let seats = crate::seats::sealed::HasSeats::seats(self.raw());
        let cores = seats.len();
        if core >= cores {
            return Err(PinError::NoSuchCore { core, cores });
        }
        match seats::pin(seats, core) {
            Err(Some(held)) => return Err(PinError::AlreadyHolding { held }),
            Err(None) => return Err(PinError::CoreTaken { core }),
            Ok(()) => {}
        }
        if !pin_thread(core) {
            seats::unpin(seats, core);
            return Err(PinError::CannotPin { core });
        }
        Ok(Pinned {
            lock: self,
            core,
            _not_send: PhantomData,
        })
    }
}

/// A thread's handle on one core of a per-core bakery, from [`Lock::pin`].
///
/// Neither `Send` nor `Clone`: the core belongs to the thread pinned to it.
/// Dropping the handle gives the core back.
///
/// ```compile_fail,E0277
/// fn send<T: Send>(_: T) {}
/// let lock = doorway::Lock::from_raw(doorway::percore::MachinePerCore::new(), ());
/// send(lock.pin(0).unwrap()); // a core's handle stays on its pinned thread
/// ```
pub struct Pinned<'a, S: Storage, T: ?Sized> {
    lock: &'a Lock<PerCoreBakery<S>, T>,
    core: usize,
    _not_send: PhantomData<*const ()>,
}

impl<S: Storage, T: ?Sized> Pinned<'_, S, T> {
    fn seats(&self) -> Table<'_> {
        crate::seats::sealed::HasSeats::seats(self.lock.raw())
    }

    /// Locks as this core, waiting as long as it takes. The guard borrows the
    /// handle, so re-entry through it does not compile:
    ///
    /// ```compile_fail,E0499
    /// let lock = doorway::Lock::from_raw(doorway::percore::MachinePerCore::new(), 0);
    /// let mut me = lock.pin(0).unwrap();
    /// let first = me.lock();
    /// let second = me.lock(); // re-entry: `me` is already borrowed by `first`
    /// ```
    ///
    /// # Panics
    ///
    /// When this thread holds the lock through [`Lock::lock`] (re-entry).
    #[track_caller]
    #[inline]
    pub fn lock(&mut self) -> Guard<'_, PerCoreBakery<S>, T> {
        let raw = self.lock.raw();
        let place = Place::Pinned(self.core);
        let sitting = seats::acquire(raw, place, Forever, OnReentry::Panic, |core, _| {
            // SAFETY: `core` is pinned by this thread until the handle drops
            // (it cannot drop while the guard borrows it), no other thread's
            // seat can name it, and `&mut self` keeps calls in turn.
            unsafe { crate::raw::RawLock::lock(raw, core) };
            true
        });
        Guard::seated(self.lock, sitting.expect("a lock that never gives up"))
    }

    /// Tries once to lock as this core, without waiting for anyone; `None`
    /// also when this thread holds the lock through [`Lock::lock`].
    #[inline]
    pub fn try_lock(&mut self) -> Option<Guard<'_, PerCoreBakery<S>, T>> {
        let raw = self.lock.raw();
        let place = Place::Pinned(self.core);
        // SAFETY: as in `lock`.
        let sitting = seats::acquire(
            raw,
            place,
            seats::at_once(),
            OnReentry::Fail,
            |core, _| unsafe { crate::raw::RawLock::try_lock(raw, core) },
        )?;
        Some(Guard::seated(self.lock, sitting))
    }

    /// The core this handle holds.
    pub fn core(&self) -> usize {
        self.core
    }
}

impl<S: Storage, T: ?Sized> Drop for Pinned<'_, S, T> {
    fn drop(&mut self) {
        seats::unpin(self.seats(), self.core);
    }
}

impl<S: Storage, T: ?Sized> core::fmt::Debug for Pinned<'_, S, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pinned")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}
