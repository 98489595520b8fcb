//! Which process a handle belongs to, across `fork`, without a system call.
//!
//! A forked child is a copy of its parent: it has the parent's [`Member`]s
//! and [`Guard`]s in its memory, but nothing of the custody that holds the
//! parent's participants (see [`custody`](super::custody): the descriptor
//! was closed, and the page that holds the description is `MADV_DONTFORK`).
//! If the child acted through those handles it would be a second process in
//! the parent's participant: writing the parent's Paxos block, or releasing
//! the bakery while the parent is inside. So every handle remembers the
//! *generation* of the process that made it, and refuses to act in another:
//!
//! - a [`Member`] or [`Guard`] method called in a forked child panics with a
//!   message naming fork (the child must join again, and its own member
//!   works as any newcomer's);
//! - dropping one in a child does nothing to the file: the participant and the
//!   lock stay the parent's, and the child's copy of the parent's hold
//!   unmaps nothing (its address is not the parent's page in the child).
//!
//! The generation is a counter that a `pthread_atfork` child handler, set
//! once per process, increments in every child: checking it is one load, so
//! `lock` and `unlock` make no system call. A child made without the C
//! library's `fork` (a raw `clone` system call) runs no handler and is not
//! detected; one that calls `exec` at once (`std::process::Command`) never
//! runs doorway's code.
//!
//! When the parent dies, its participants are recovered at once, whatever
//! its children do (unlike `flock` locks, which children share).
//!
//! [`Member`]: super::Member
//! [`Guard`]: super::Guard

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// How many forks separate this process from the one that first used the
/// shared file (0 there).
static GENERATION: AtomicUsize = AtomicUsize::new(0);

extern "C" fn in_child() {
    // Relaxed: read only by this process's own threads, of which the child
    // has just one, the one running this handler.
    GENERATION.fetch_add(1, Relaxed);
}

/// This process's generation; the first call sets up the fork handler.
pub(crate) fn generation() -> usize {
    static HANDLER: Once = Once::new();
    HANDLER.call_once(|| {
        // SAFETY: registers a handler that only increments an atomic (which
        // is async-signal-safe); the handler lives as long as the program.
        let status = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        // ENOMEM is the only documented failure; without the handler a
        // forked child could act as its parent, so this is not survivable.
        assert!(
            status == 0,
            "doorway shm: pthread_atfork failed ({status}); cannot tell a forked child from its parent"
        );
    });
    // Relaxed: see `in_child`.
    GENERATION.load(Relaxed)
}

/// The generation a handle was made in, to be checked before it acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Born(usize);

impl Born {
    /// Now, in this process.
    pub(crate) fn now() -> Self {
        Self(generation())
    }

    /// Whether this is still the process the handle was made in.
    #[inline]
    pub(crate) fn is_here(self) -> bool {
        // Relaxed: see `in_child`. The handler was set up by `now`.
        GENERATION.load(Relaxed) == self.0
    }

    /// Panics, naming the caller's line, if this is a forked child.
    #[track_caller]
    #[inline]
    pub(crate) fn assert_here(self) {
        if !self.is_here() {
            forked();
        }
    }
}

#[cold]
#[track_caller]
fn forked() -> ! {
    panic!(
        "doorway shm: a Member or Guard used in a forked child; it belongs to the parent \
         process (the child shares its participant): open the file and join again in the child"
    )
}
