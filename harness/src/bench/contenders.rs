//! The locks under test, doorway's and the baselines, behind one interface.
//!
//! A [`Family`] is one entry of the lineup: a kind of lock that can be built
//! for a given number of participants (the bakery is sized to the threads that
//! use it; a baseline ignores the count). Benches walk the lineup with a
//! [`Visitor`] and get each lock as a concrete [`Contender`] type, so nothing
//! on the measured path is dynamically dispatched.
//!
//! A lock joins every bench and the `contention` demo with one line in
//! [`lineup`].

use crate::locks::Visit;
use doorway::{
    FifoLock, RawLock, bakery::Bakery, fastbakery::FastBakery, percore::PerCore,
    peterson::Peterson, ticket::Ticket, tournament::Tournament,
};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A lock, for the duration of one run.
pub trait Contender: Send + Sync + 'static {
    /// Runs `critical` holding the lock as participant `who`.
    fn with_lock<R>(&self, who: usize, critical: impl FnOnce() -> R) -> R;

    /// Like [`with_lock`](Self::with_lock), stamping `clock` before and after
    /// the doorway, for FIFO audits. `None` if the lock has no doorway to audit.
    fn with_lock_audited<R>(
        &self,
        who: usize,
        clock: &AtomicUsize,
        critical: impl FnOnce(Visit) -> R,
    ) -> Option<R> {
        let _ = (who, clock, critical);
        None
    }
}

/// What a bench does with one lock of the lineup.
pub trait Visitor {
    /// Gets the lock built for this run.
    fn visit<C: Contender>(&mut self, name: &'static str, lock: C);
}

/// One entry of the lineup.
pub trait Family {
    /// The name in tables and criterion ids.
    const NAME: &'static str;
    /// Whether the lock promises first-come-first-served order.
    const FIFO: bool;
    /// Builds the lock for `participants` and hands it to `visitor`; returns
    /// `false` (and builds nothing) if the lock cannot serve that many.
    fn build(participants: usize, visitor: &mut impl Visitor) -> bool;
}

/// Walks every lock, doorway's first, then the baselines.
pub fn lineup(visitor: &mut impl FamilyVisitor) {
    visitor.family::<TextbookBakery>();
    visitor.family::<FastBakeryLock>();
    visitor.family::<PerCoreBakery>();
    visitor.family::<PetersonLock>();
    visitor.family::<TournamentTree>();
    visitor.family::<DoorwayTicket>();
    visitor.family::<SpinTicketMutex>();
    visitor.family::<ParkingLotMutex>();
    visitor.family::<StdMutex>();
}

/// The number of locks in the lineup.
pub fn lineup_len() -> usize {
    struct Count(usize);
    impl FamilyVisitor for Count {
        fn family<F: Family>(&mut self) {
            self.0 += 1;
        }
    }
    let mut count = Count(0);
    lineup(&mut count);
    count.0
}

/// What a bench does with each entry of the lineup.
pub trait FamilyVisitor {
    /// Called once per family, in lineup order.
    fn family<F: Family>(&mut self);
}

/// A doorway raw lock: participant `who` is worker `who`.
pub struct Raw<R>(pub R);

impl<R: RawLock + Send + 'static> Contender for Raw<R> {
    #[inline]
    fn with_lock<T>(&self, who: usize, critical: impl FnOnce() -> T) -> T {
        // SAFETY: worker `who` is the only thread acting as participant `who`.
        unsafe { self.0.lock(who) };
        let result = critical();
        // SAFETY: `who` holds the lock.
        unsafe { self.0.unlock(who) };
        result
    }
}

/// A doorway FIFO lock, audited through its doorway and waiting room.
pub struct Fifo<R>(pub R);

impl<R: FifoLock + Send + 'static> Contender for Fifo<R> {
    #[inline]
    fn with_lock<T>(&self, who: usize, critical: impl FnOnce() -> T) -> T {
        Raw::with_lock_of(&self.0, who, critical)
    }

    fn with_lock_audited<T>(
        &self,
        who: usize,
        clock: &AtomicUsize,
        critical: impl FnOnce(Visit) -> T,
    ) -> Option<T> {
        let doorway_began = clock.fetch_add(1, Ordering::SeqCst);
        // SAFETY: worker `who` is the only thread acting as participant `who`.
        let ticket = unsafe { self.0.doorway(who) };
        let doorway_ended = clock.fetch_add(1, Ordering::SeqCst);
        // SAFETY: `ticket` is from `who`'s doorway just above.
        unsafe { self.0.wait_turn(who, ticket) };
        let result = critical(Visit {
            who,
            doorway_began,
            doorway_ended,
        });
        // SAFETY: `who` holds the lock.
        unsafe { self.0.unlock(who) };
        Some(result)
    }
}

impl<R: RawLock> Raw<R> {
    #[inline]
    fn with_lock_of<T>(lock: &R, who: usize, critical: impl FnOnce() -> T) -> T {
        // SAFETY: as in `Raw::with_lock`.
        unsafe { lock.lock(who) };
        let result = critical();
        // SAFETY: `who` holds the lock.
        unsafe { lock.unlock(who) };
        result
    }
}

/// Builds `$make::<N>()` with the smallest `N` of 2, 4 … 256 that admits
/// `$participants`, and visits it; `false` beyond 256.
macro_rules! sized {
    ($participants:expr, $visitor:expr, $name:expr, |$n:ident| $make:expr) => {{
        sized!(@try $participants, $visitor, $name, $n, $make, 2, 4, 8, 16, 32, 64, 128, 256)
    }};
    (@try $participants:expr, $visitor:expr, $name:expr, $n:ident, $make:expr, $($size:literal),*) => {{
        let participants = $participants;
        $(
            if participants <= $size {
                const $n: usize = $size;
                $visitor.visit($name, $make);
                return true;
            }
        )*
        false
    }};
}

/// Lamport's bakery, sized to the threads that use it.
pub struct TextbookBakery;

impl Family for TextbookBakery {
    const NAME: &'static str = "doorway Bakery";
    const FIFO: bool = true;
    fn build(participants: usize, visitor: &mut impl Visitor) -> bool {
        sized!(participants, visitor, Self::NAME, |N| Fifo(
            Bakery::<N>::new()
        ))
    }
}

/// The fast bakery, sized to the threads that use it: not FIFO (its fast
/// path may overtake queued acquisitions).
pub struct FastBakeryLock;

impl Family for FastBakeryLock {
    const NAME: &'static str = "doorway FastBakery";
    const FIFO: bool = false;
    fn build(participants: usize, visitor: &mut impl Visitor) -> bool {
        sized!(participants, visitor, Self::NAME, |N| Raw(
            FastBakery::<N>::new()
        ))
    }
}

/// The per-core bakery, sized to the threads that use it; worker `k` (pinned
/// to core `k`) is core `k`.
pub struct PerCoreBakery;

impl Family for PerCoreBakery {
    const NAME: &'static str = "doorway PerCore";
    const FIFO: bool = true;
    fn build(participants: usize, visitor: &mut impl Visitor) -> bool {
        sized!(participants, visitor, Self::NAME, |N| Fifo(
            PerCore::<N>::new()
        ))
    }
}

/// Peterson's lock: two participants only.
pub struct PetersonLock;

impl Family for PetersonLock {
    const NAME: &'static str = "doorway Peterson";
    const FIFO: bool = true;
    fn build(participants: usize, visitor: &mut impl Visitor) -> bool {
        if participants > 2 {
            return false;
        }
        visitor.visit(Self::NAME, Fifo(Peterson::new()));
        true
    }
}

/// A tournament tree of Peterson locks, sized to the threads (a power of two).
pub struct TournamentTree;

impl Family for TournamentTree {
    const NAME: &'static str = "doorway Tournament";
    const FIFO: bool = false;
    fn build(participants: usize, visitor: &mut impl Visitor) -> bool {
        sized!(participants, visitor, Self::NAME, |N| Raw(
            Tournament::<N>::new()
        ))
    }
}

/// doorway's ticket lock: one fetch-add per acquisition, FIFO.
pub struct DoorwayTicket;

impl Family for DoorwayTicket {
    const NAME: &'static str = "doorway Ticket";
    const FIFO: bool = true;
    fn build(_: usize, visitor: &mut impl Visitor) -> bool {
        visitor.visit(Self::NAME, Fifo(Ticket::new()));
        true
    }
}

/// `spin::mutex::TicketMutex`: fetch-add ticket lock, FIFO, spins.
pub struct SpinTicketMutex;

impl Family for SpinTicketMutex {
    const NAME: &'static str = "spin TicketMutex";
    const FIFO: bool = true;
    fn build(_: usize, visitor: &mut impl Visitor) -> bool {
        visitor.visit(Self::NAME, spin::mutex::TicketMutex::new(()));
        true
    }
}

impl Contender for spin::mutex::TicketMutex<()> {
    #[inline]
    fn with_lock<T>(&self, _: usize, critical: impl FnOnce() -> T) -> T {
        let _guard = self.lock();
        critical()
    }
}

/// `parking_lot::Mutex`: spins briefly, then parks; lets the releaser barge.
pub struct ParkingLotMutex;

impl Family for ParkingLotMutex {
    const NAME: &'static str = "parking_lot Mutex";
    const FIFO: bool = false;
    fn build(_: usize, visitor: &mut impl Visitor) -> bool {
        visitor.visit(Self::NAME, parking_lot::Mutex::new(()));
        true
    }
}

impl Contender for parking_lot::Mutex<()> {
    #[inline]
    fn with_lock<T>(&self, _: usize, critical: impl FnOnce() -> T) -> T {
        let _guard = self.lock();
        critical()
    }
}

/// `std::sync::Mutex`: a futex lock.
pub struct StdMutex;

impl Family for StdMutex {
    const NAME: &'static str = "std Mutex";
    const FIFO: bool = false;
    fn build(_: usize, visitor: &mut impl Visitor) -> bool {
        visitor.visit(Self::NAME, std::sync::Mutex::new(()));
        true
    }
}

impl Contender for std::sync::Mutex<()> {
    #[inline]
    fn with_lock<T>(&self, _: usize, critical: impl FnOnce() -> T) -> T {
        let _guard = self.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        critical()
    }
}
