//! The protocol's two halves and their fences (see the [module
//! documentation](super)), over any [`Parking`].

use crate::sync::wait::LONGEST_NAP;
use crate::sync::{AtomicU32, FenceSite, Nap, Ordering::*, fence};

/// `word[s] := p + 1` must be visible before the sleeper looks at its lock
/// again (store buffering against [`WAKE`] in the mover).
pub(crate) const SLEEP: FenceSite = FenceSite("sleep: announce the sleep before looking again");

/// The mover's releasing store must be visible before it looks at the wake
/// words (store buffering against [`SLEEP`] in a sleeper).
pub(crate) const WAKE: FenceSite = FenceSite("sleep: publish the move before looking for sleepers");

/// A sleeper of a lobby counted before it looks at its lock again (store
/// buffering against [`LOBBY_WAKE`] in the mover).
pub(crate) const LOBBY_SLEEP: FenceSite =
    FenceSite("sleep: count a lobby's sleeper before looking again");

/// The mover's store visible before it reads a lobby's count of sleepers
/// (store buffering against [`LOBBY_SLEEP`]).
pub(crate) const LOBBY_WAKE: FenceSite =
    FenceSite("sleep: publish the move before counting a lobby's sleepers");

/// Every fence of the protocol, for doorway's loom mutation tests.
#[cfg(hooks)]
pub const FENCES: [FenceSite; 4] = [SLEEP, WAKE, LOBBY_SLEEP, LOBBY_WAKE];

/// How a sleeper sleeps on its word and is woken, and the two fences of the
/// store buffering between them.
pub(crate) trait Parking {
    /// Sleeps while `word` holds `mark`, for at most `nap`; may return early.
    fn wait(&self, word: &AtomicU32, mark: u32, nap: Nap);
    /// Wakes the sleeper waiting on `word`, if any.
    fn wake(&self, word: &AtomicU32);

    /// The sleeper's fence, between its announcement and its second look;
    /// `false` if it may not pair with the movers' (an asymmetric barrier
    /// that failed), when the sleeper must nap rather than sleep for good.
    #[inline(always)]
    fn fence_to_sleep(&self) -> bool {
        fence(SeqCst, SLEEP);
        true
    }

    /// The mover's fence, between its move and its look at the sleepers.
    #[inline(always)]
    fn fence_to_wake(&self) {
        fence(SeqCst, WAKE);
    }
}

/// The mark of a sleep on participant `on`.
#[inline(always)]
fn mark(on: usize) -> u32 {
    on as u32 + 1
}

/// The sleeping half: the owner of `word` sleeps until participant `on`
/// moves, unless `still_blocked`, asked after the announcement, says it has
/// already; at most `nap`. `asleep` counts the lock's sleepers.
pub(crate) fn sleep_on<P: Parking + ?Sized>(
    parking: &P,
    asleep: &AtomicU32,
    word: &AtomicU32,
    on: usize,
    still_blocked: impl FnOnce() -> bool,
    nap: Nap,
) {
    let mark = mark(on);
    // Relaxed, both: ordered before the recheck by the sleeper's fence; the
    // mover reads them only to decide whether to wake.
    asleep.fetch_add(1, Relaxed);
    word.store(mark, Relaxed);
    let nap = if parking.fence_to_sleep() {
        nap
    } else {
        nap.at_most(LONGEST_NAP)
    };
    if still_blocked() {
        parking.wait(word, mark, nap);
    }
    // Relaxed: awake again; a mover that still reads the mark or the count
    // only wakes this thread spuriously, or looks for nobody (invariant 3).
    word.store(0, Relaxed);
    asleep.fetch_sub(1, Relaxed);
}

/// The waking half, after a store of `me`'s that may let waiters through and
/// the mover's fence after it (or a `SeqCst` fence of the lock's own that
/// follows the store): if anyone sleeps, wakes every sleeper whose word
/// names `me`. Nobody asleep: one load.
#[inline]
pub(crate) fn wake_sleepers_on<'w, P: Parking + ?Sized>(
    parking: &P,
    asleep: &AtomicU32,
    words: impl IntoIterator<Item = &'w AtomicU32>,
    me: usize,
) {
    // Relaxed: see `sleep_on`; the fence before it orders the move.
    if asleep.load(Relaxed) == 0 {
        return;
    }
    let mark = mark(me);
    for word in words {
        // Relaxed: only decides whether to wake; the sleeper reads the lock's
        // registers again, with their own orderings.
        if word.load(Relaxed) == mark {
            wake(parking, word);
        }
    }
}

#[cold]
fn wake<P: Parking + ?Sized>(parking: &P, word: &AtomicU32) {
    // Relaxed: cleared before `wake`, so a `wait` that compares after it
    // does not sleep (invariant 1).
    word.store(0, Relaxed);
    parking.wake(word);
}
