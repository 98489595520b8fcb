//! A tournament tree of Peterson locks: mutual exclusion for `N`
//! participants in O(log N) steps, from loads, stores and fences only. (The
//! tournament construction goes back to Peterson and Fischer, 1977.)
//!
//! # The algorithm
//!
//! The participants are the leaves of a complete binary tree, and every
//! inner node is a two-sided Peterson lock, a *duel*, between its two
//! subtrees. A participant wins the duels on its path from the bottom up; the
//! winner of the root holds the lock. Number the nodes as in a binary heap:
//! the root is 1, the children of `k` are `2k` and `2k + 1`, and participant
//! `p` starts at position `N + p`.
//!
//! ```text
//! lock(p):    position := N + p
//!             repeat log₂ N times:
//!                 win duel (position / 2) as side (position mod 2)
//!                 position := position / 2
//! unlock(p):  leave the same duels, from the root down
//! try_lock:   try each duel once, bottom-up; on a loss, leave the ones won,
//!             from the top down
//! ```
//!
//! # Invariants
//!
//! 1. **One player per side.** The side of duel `k` that faces child `c` is
//!    played only by the thread that holds duel `c` (at the bottom, by the
//!    participant at leaf `c`), and that thread keeps `c` until it has left
//!    `k`. That is why release goes from the root down: leaving a lower duel
//!    first would let the next winner of that duel play the same side of the
//!    duel above while its previous player is still there.
//! 2. **Mutual exclusion** is the root duel's (Peterson's invariant 3),
//!    which applies because of invariant 1.
//! 3. **Starvation freedom**: every duel admits a waiting side after at most
//!    one turn of the other, and every holder leaves every duel it won. The
//!    tree is *not* first come, first served: while a participant waits in a
//!    low duel, later arrivals from the other half of the tree can pass it
//!    at the root. So `Tournament` does not implement
//!    [`FifoLock`](crate::FifoLock).
//! 4. **Synchronization**: the holder's release of the root is a release
//!    store that the next holder of the root reads with an acquire load. The
//!    same edge, at each duel, orders one player of a side before the next,
//!    which is what keeps invariant 1's "until it has left `k`" true in
//!    memory as well as in time.
//!
//! # Memory ordering
//!
//! No fences of its own: each duel is Peterson's lock, with its two `SeqCst`
//! fences (see [`peterson`](crate::peterson)). The loom mutation tests remove
//! and weaken them inside the tree too.
//!
//! # Sleeping
//!
//! With `std`, a player past its spin sleeps in its duel as a Peterson side
//! does. An exit leaves its duels from the top down, then fences once and
//! wakes the other side of each duel if it sleeps.
//!
//! # Cost
//!
//! Per acquisition, uncontended: `log₂ N` duels of two stores, two `SeqCst`
//! fences and two loads each; release is `log₂ N` stores. The bakery pays two
//! fences and `3(N − 1)` loads instead, so the tree trades more fences for
//! fewer reads as `N` grows, and under contention each register is shared by
//! two subtrees rather than by everyone. The duels sit in one unpadded array,
//! as the bakery's registers do, so small trees share a cache line.

use crate::peterson::Duel;
use crate::raw::{ConstInit, Participants, RawLock, Withdraw};
use crate::sync::{Lazy, Patience, array_of, const_fn_unless_loom, lazy};
use core::fmt;

/// The tournament's fences are its duels', for doorway's loom mutation tests.
#[cfg(hooks)]
pub const FENCES: [crate::sync::FenceSite; 2] = crate::peterson::FENCES;

/// A tournament tree of Peterson locks for `N` participants, `N` a power of
/// two.
///
/// Starvation-free but not first come, first served; no compare-and-swap or
/// fetch-add anywhere. See the [module documentation](self).
///
/// ```
/// use doorway::{Lock, tournament::Tournament};
///
/// let mut total = Lock::<Tournament<4>, u64>::new(0);
/// std::thread::scope(|s| {
///     for mut player in total.participants::<4>() {
///         s.spawn(move || (0..250).for_each(|_| *player.lock() += 1));
///     }
/// });
/// assert_eq!(total.into_inner(), 1000);
/// ```
///
/// `N` must be a power of two, at least 2:
///
/// ```compile_fail,E0080
/// let lock = doorway::tournament::Tournament::<3>::new();
/// ```
pub struct Tournament<const N: usize> {
    registers: Lazy<TournamentRegisters<N>>,
}

/// The registers of a tournament, kept in the lock.
struct TournamentRegisters<const N: usize> {
    /// `duels[k]`, for `1 ≤ k < N`, is the duel between nodes `2k` and
    /// `2k + 1`; `duels[0]` is unused, which keeps the heap arithmetic plain.
    duels: [Duel; N],
    /// Threads that lock without a participant handle take one of these.
    #[cfg(feature = "std")]
    seats: crate::seats::Seats<N>,
}

impl<const N: usize> TournamentRegisters<N> {
    const_fn_unless_loom! {
        fn new() -> Self {
            const {
                assert!(
                    N >= 2 && N.is_power_of_two(),
                    "a Tournament needs a power of two participants, at least 2"
                )
            };
            Self {
                duels: array_of![Duel::new(); N],
                #[cfg(feature = "std")]
                seats: crate::seats::Seats::new(),
            }
        }
    }
}

impl<const N: usize> Tournament<N> {
    /// Duels on every path from a leaf to the root.
    const LEVELS: usize = N.trailing_zeros() as usize;

    const_fn_unless_loom! {
        /// An unlocked tournament. (`const` except under loom; see the crate
        /// documentation, "Under loom".)
        pub fn new() -> Self {
            Self {
                registers: Lazy::new(TournamentRegisters::new()),
            }
        }
    }

    #[inline(always)]
    fn duels(&self) -> &[Duel; N] {
        &self.registers.get().duels
    }

    /// The duels on `me`'s path, from the bottom up, each with the side `me`
    /// plays there.
    #[track_caller]
    #[inline]
    fn path(
        &self,
        me: usize,
    ) -> impl DoubleEndedIterator<Item = (&Duel, usize)> + ExactSizeIterator {
        assert!(
            me < N,
            "doorway: participant {me} is out of range for a Tournament<{N}>"
        );
        let leaf = N + me;
        let duels = self.duels();
        (1..Self::LEVELS + 1).map(move |level| (&duels[leaf >> level], (leaf >> (level - 1)) & 1))
    }

    /// Invariant 1, checked on the way up: the side is free when its new
    /// player arrives. (The previous player left it before leaving the duel
    /// below, which the new player then won, so this load cannot be stale.)
    /// At the bottom, `assert_not_holding` has checked it already.
    #[track_caller]
    fn assert_side_free(duel: &Duel, side: usize) {
        assert!(
            !duel.is_interested(side),
            "doorway: two threads reached one side of a Tournament<{N}> duel: \
             mutual exclusion violated in the duel below"
        );
    }

    #[track_caller]
    fn assert_not_holding(&self, me: usize) {
        let (bottom, side) = self.path(me).next().expect("a tree has one level or more");
        // Only `me` plays its side of the bottom duel, so this is exact.
        assert!(
            !bottom.is_interested(side),
            "doorway: participant {me} tried to lock a Tournament<{N}> it already holds (re-entry)"
        );
    }

    /// Leaves the lowest `won` duels of `me`'s path, from the top down
    /// (invariant 1), then wakes whoever sleeps on `me` in them, after one
    /// fence for all.
    fn leave_won(&self, me: usize, won: usize) {
        for (duel, side) in self.path(me).take(won).rev() {
            duel.leave(side);
        }
        crate::sync::sleep::fence_before_waking();
        for (duel, side) in self.path(me).take(won) {
            duel.wake_other_fenced(side);
        }
    }
}

// SAFETY: the root duel gives mutual exclusion, since each side of each duel
// has one player at a time (invariants 1 and 2); holders synchronize through
// the root's release and acquire (invariant 4); `try_lock` tries each duel
// once and never waits; `path` panics on an index out of range before any
// register is touched.
unsafe impl<const N: usize> RawLock for Tournament<N> {
    fn participants(&self) -> Participants {
        Participants::Bounded(N)
    }

    #[track_caller]
    #[inline]
    unsafe fn lock(&self, me: usize) {
        self.assert_not_holding(me);
        for (duel, side) in self.path(me) {
            Self::assert_side_free(duel, side);
            duel.lock(side);
        }
    }

    #[track_caller]
    #[inline]
    unsafe fn try_lock(&self, me: usize) -> bool {
        self.assert_not_holding(me);
        // The quiet look: a rival on any duel of the path fails the try
        // before anything is written (a hint; the duels decide).
        if self
            .path(me)
            .any(|(duel, side)| duel.is_interested(side ^ 1))
        {
            return false;
        }
        let won = self
            .path(me)
            .take_while(|&(duel, side)| {
                Self::assert_side_free(duel, side);
                duel.try_lock(side)
            })
            .count();
        if won == Self::LEVELS {
            return true;
        }
        self.leave_won(me, won);
        false
    }

    #[inline]
    unsafe fn unlock(&self, me: usize) {
        self.leave_won(me, Self::LEVELS);
    }

    fn is_locked(&self) -> bool {
        self.duels()[1..].iter().any(Duel::is_locked)
    }
}

// SAFETY: a withdrawing player leaves the duel it waits in as an exit would,
// then the duels it won below, from the top down (invariant 1); every duel it
// leaves is as if it had never arrived.
unsafe impl<const N: usize> Withdraw for Tournament<N> {
    #[track_caller]
    unsafe fn lock_unless(&self, me: usize, give_up: impl FnMut() -> bool) -> bool {
        // SAFETY: the caller's contract is `lock_unless`'s.
        unsafe { self.lock_patiently(me, give_up) }
    }

    #[track_caller]
    unsafe fn lock_patiently(&self, me: usize, mut patience: impl Patience) -> bool {
        self.assert_not_holding(me);
        for (won, (duel, side)) in self.path(me).enumerate() {
            Self::assert_side_free(duel, side);
            duel.arrive(side);
            if !duel.wait_turn(side, &mut patience) {
                self.leave_won(me, won);
                return false;
            }
        }
        true
    }
}

impl<const N: usize> ConstInit for Tournament<N> {
    const INIT: Self = Self {
        registers: lazy!(TournamentRegisters::new()),
    };
}

#[cfg(feature = "std")]
impl<const N: usize> crate::seats::sealed::HasSeats for Tournament<N> {
    #[inline(always)]
    fn seats(&self) -> crate::seats::Table<'_> {
        self.registers.get().seats.table()
    }
}

impl<const N: usize> Default for Tournament<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for Tournament<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A snapshot of the duels, root first; it may be stale when printed.
        f.debug_struct("Tournament")
            .field("duels", &&self.duels()[1..])
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    /// `me`'s path as (duel index, side) pairs.
    fn path_of<const N: usize>(me: usize) -> std::vec::Vec<(usize, usize)> {
        let tree = Tournament::<N>::new();
        let index_of = |duel: &Duel| {
            let found = tree.duels().iter().position(|d| core::ptr::eq(d, duel));
            found.expect("a duel of this tree")
        };
        tree.path(me)
            .map(|(duel, side)| (index_of(duel), side))
            .collect()
    }

    #[test]
    fn paths_climb_from_the_leaf_to_the_root() {
        assert_eq!(path_of::<2>(1), [(1, 1)]);
        assert_eq!(path_of::<8>(0), [(4, 0), (2, 0), (1, 0)]);
        assert_eq!(path_of::<8>(5), [(6, 1), (3, 0), (1, 1)]);
        assert_eq!(path_of::<8>(7), [(7, 1), (3, 1), (1, 1)]);
    }

    #[test]
    fn a_failed_try_lock_leaves_every_duel_it_won() {
        let tree = Tournament::<4>::new();
        // SAFETY: participants 0 and 3 are used by this thread only.
        unsafe {
            tree.lock(0);
            // Participant 3 wins its bottom duel and loses at the root.
            assert!(!tree.try_lock(3));
            assert!(!tree.duels()[3].is_locked(), "a won duel was kept");
            tree.unlock(0);
            assert!(!tree.is_locked());
            assert!(tree.try_lock(3));
            tree.unlock(3);
        }
        assert!(!tree.is_locked());
    }

    #[test]
    #[should_panic(expected = "out of range for a Tournament<4>")]
    fn an_index_beyond_the_leaves_panics() {
        let tree = Tournament::<4>::new();
        // SAFETY: deliberately out of range; the lock must panic first.
        unsafe { tree.lock(4) };
    }

    #[test]
    #[should_panic(expected = "already holds (re-entry)")]
    fn raw_reentry_panics() {
        let tree = Tournament::<4>::new();
        // SAFETY: deliberately re-entering participant 2; the lock must panic
        // before it waits on itself.
        unsafe {
            tree.lock(2);
            tree.lock(2);
        }
    }
}
