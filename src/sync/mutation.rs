//! Weakening one named fence or ordering at a time, in doorway's own loom and
//! Miri builds only (with the test hooks); a user's build has no such
//! switch.
//!
//! A mutation names its target by the fence's or the access's name, and is
//! switched on in one of two ways:
//!
//! - around a closure, for the current OS thread ([`with`]): loom runs a whole
//!   model on the thread that calls it, so models running in parallel test
//!   threads cannot see each other's mutations;
//! - for the whole process, from the environment variable `DOORWAY_MUTATION`
//!   (`removed:<site>` or `weakened:<site>`), read once: a Miri run spawns real
//!   threads, and a thread-local switch would not reach them.

use super::{Access, FenceSite, Ordering};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::string::String;
use std::sync::OnceLock;

/// How a fence is mutated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// The fence is not executed at all.
    Removed,
    /// The fence is executed one step weaker: `SeqCst` becomes `AcqRel`,
    /// and `AcqRel` becomes `Acquire`; a one-sided fence disappears.
    Weakened,
}

impl Mutation {
    /// Both mutations, strongest change first.
    pub const ALL: [Mutation; 2] = [Mutation::Removed, Mutation::Weakened];
}

/// What the hooks do on one thread.
#[derive(Clone, Copy)]
struct Hooks {
    /// The mutation in force; `None` until first looked up, then the
    /// process-wide one named by `DOORWAY_MUTATION` (so that it reaches every
    /// thread a test spawns) unless [`with`] replaces it for a while.
    active: Option<Option<(&'static str, Mutation)>>,
    /// Whether [`executed_by`] is recording.
    recording: bool,
}

// Every named fence and access reads `HOOKS` on every execution, so it is one
// `const`-initialized `Copy` value with no destructor: a plain per-thread
// static, cheap to read under Miri and usable during thread teardown. The
// set of executed names is touched only while a loom model records it: Miri
// interprets every access, and a set insert or an environment lookup on each
// one would cost the threaded suites most of their time.
std::thread_local! {
    static HOOKS: Cell<Hooks> = const {
        Cell::new(Hooks {
            active: None,
            recording: false,
        })
    };
    static EXECUTED: RefCell<BTreeSet<&'static str>> = const { RefCell::new(BTreeSet::new()) };
}

/// Runs `f` with the fence `site` mutated on this thread; the mutation ends
/// when `f` returns or unwinds.
pub fn with<R>(site: FenceSite, mutation: Mutation, f: impl FnOnce() -> R) -> R {
    with_target(site.0, mutation, f)
}

/// Runs `f` with `access` weakened one step on this thread.
pub fn with_weakened<R>(access: Access, f: impl FnOnce() -> R) -> R {
    with_target(access.name, Mutation::Weakened, f)
}

/// Runs `f` with `hooks` changed by `change` on this thread, and restores
/// them when `f` returns or unwinds.
fn with_hooks<R>(change: impl FnOnce(&mut Hooks), f: impl FnOnce() -> R) -> R {
    struct Restore(Hooks);
    impl Drop for Restore {
        fn drop(&mut self) {
            HOOKS.set(self.0);
        }
    }
    let before = HOOKS.get();
    let mut hooks = before;
    change(&mut hooks);
    HOOKS.set(hooks);
    let _restore = Restore(before);
    f()
}

fn with_target<R>(target: &'static str, mutation: Mutation, f: impl FnOnce() -> R) -> R {
    with_hooks(|hooks| hooks.active = Some(Some((target, mutation))), f)
}

/// Runs `f` and returns, with its result, the name of every fence and named
/// access this thread executed meanwhile.
pub fn executed_by<R>(f: impl FnOnce() -> R) -> (R, BTreeSet<&'static str>) {
    let before = EXECUTED.take();
    let result = with_hooks(|hooks| hooks.recording = true, f);
    (result, EXECUTED.replace(before))
}

/// The process-wide mutation named by `DOORWAY_MUTATION`, if any, parsed
/// once.
fn from_environment() -> Option<(&'static str, Mutation)> {
    static PARSED: OnceLock<Option<(&'static str, Mutation)>> = OnceLock::new();
    *PARSED.get_or_init(|| {
        let spec = std::env::var("DOORWAY_MUTATION").ok()?;
        let (how, site) = spec.split_once(':')?;
        let how = match how {
            "removed" => Mutation::Removed,
            "weakened" => Mutation::Weakened,
            other => panic!("DOORWAY_MUTATION: unknown mutation `{other}`"),
        };
        // Parsed once per process and kept for its whole life.
        Some((String::from(site).leak(), how))
    })
}

/// The mutation in force for `target`, if any; records the target as
/// executed while [`executed_by`] records.
fn mutation_of(target: &'static str) -> Option<Mutation> {
    let hooks = HOOKS.get();
    if hooks.recording {
        let _ = EXECUTED.try_with(|seen| seen.borrow_mut().insert(target));
    }
    let active = hooks.active.unwrap_or_else(|| {
        let active = from_environment();
        HOOKS.set(Hooks {
            active: Some(active),
            ..hooks
        });
        active
    });
    match active {
        Some((active, how)) if active == target => Some(how),
        _ => None,
    }
}

/// The ordering the fence at `site` runs with, or `None` if it is removed.
pub(super) fn fence_order(site: FenceSite, order: Ordering) -> Option<Ordering> {
    match mutation_of(site.0) {
        None => Some(order),
        Some(Mutation::Removed) => None,
        // A fence one step weaker: `SeqCst` to `AcqRel`, `AcqRel` to
        // `Acquire`; a one-sided fence disappears.
        Some(Mutation::Weakened) => match order {
            Ordering::SeqCst => Some(Ordering::AcqRel),
            Ordering::AcqRel => Some(Ordering::Acquire),
            _ => None,
        },
    }
}

/// The ordering the access named `name` runs with.
pub(super) fn access_order(name: &'static str, order: Ordering) -> Ordering {
    match mutation_of(name) {
        Some(_) => Access::edge(name, order).weaker().unwrap_or(order),
        None => order,
    }
}
