//! Lobbies: waiters with no participant of their own (see
//! [lobbies](super#lobbies-waiters-with-no-participant)), written once over
//! [`LobbyParking`]: threads, loom's models and bare targets run this very
//! code, each with its own backend, so the models check the lobby the threads
//! run.
//!
//! A sleeper counts itself, fences ([`LOBBY_SLEEP`]), and sleeps only if,
//! asked atomically with any wake, it is still blocked; a mover stores,
//! fences ([`LOBBY_WAKE`]), and wakes only if the count is not zero: store
//! buffering, so either the sleeper's look sees the move or the mover sees
//! the count. The count is one per lobby, and a lobby one per lock: a move
//! that nobody waits for costs the mover its fence and one load of a word
//! only that lock's sleepers write.
//!
//! [`LOBBY_SLEEP`]: super::protocol::LOBBY_SLEEP
//! [`LOBBY_WAKE`]: super::protocol::LOBBY_WAKE

use super::env::Backend;
use crate::sync::wait::LONGEST_NAP;
use crate::sync::{AtomicU32, Nap, Ordering::Relaxed, const_fn_unless_loom};

/// How a lobby's sleepers sleep and are woken, and the two fences of the
/// store buffering between them: one backend per environment.
pub(crate) trait LobbyParking {
    /// Whether anyone ever sleeps: `false` without `std`, where waits spin,
    /// and a lobby compiles to nothing.
    const SLEEPS: bool = true;

    /// The sleeper's fence, between counting itself and looking again;
    /// `false` if it may not pair with the movers' (an asymmetric barrier
    /// that failed), when the sleeper must nap rather than sleep for good.
    fn fence_to_sleep(&self) -> bool;

    /// The mover's fence, between its store and its read of the count.
    fn fence_to_wake(&self);

    /// Sleeps on `key` with `token` if `still_blocked`, asked atomically
    /// with [`wake`](Self::wake) on the same key (and again after each wake
    /// where the backend wakes everyone); at most `nap`; may return early.
    fn wait(&self, key: usize, token: usize, still_blocked: impl Fn() -> bool, nap: Nap);

    /// Wakes the first sleeper on `key` whose token `lets_through` accepts
    /// (a backend that cannot choose wakes every sleeper on the key, and
    /// each looks again).
    fn wake(&self, key: usize, lets_through: impl FnMut(usize) -> bool);
}

/// Sleepers with no participant of their own, parked on a key of their lock
/// (a word's address that this lobby alone parks on), and their count.
pub(crate) struct Lobby {
    sleepers: AtomicU32,
}

impl Lobby {
    const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                sleepers: AtomicU32::new(0),
            }
        }
    }

    /// Sleeps with `token`, parked on `key`, if `still_blocked` says so after
    /// the count, atomically with any wake; at most `nap`. Callers look at
    /// their lock again after it returns, whatever woke them.
    #[cold]
    pub(crate) fn sleep(
        &self,
        key: usize,
        token: usize,
        still_blocked: impl Fn() -> bool,
        nap: Nap,
    ) {
        if !Backend::SLEEPS {
            return;
        }
        // Relaxed: the count's own order is all a mover reads; the fence
        // orders it before the look.
        self.sleepers.fetch_add(1, Relaxed);
        let nap = if Backend.fence_to_sleep() {
            nap
        } else {
            nap.at_most(LONGEST_NAP)
        };
        Backend.wait(key, token, still_blocked, nap);
        // Relaxed: a mover that still counts this sleeper only wakes nobody.
        self.sleepers.fetch_sub(1, Relaxed);
    }

    /// After a store that may let a sleeper parked on `key` through: wakes
    /// the first whose token `lets_through` accepts, if anyone sleeps.
    #[inline]
    pub(crate) fn wake_one(&self, key: usize, lets_through: impl FnMut(usize) -> bool) {
        if !Backend::SLEEPS {
            return;
        }
        Backend.fence_to_wake();
        // Relaxed: see `sleep`.
        if self.sleepers.load(Relaxed) != 0 {
            Backend.wake(key, lets_through);
        }
    }
}
