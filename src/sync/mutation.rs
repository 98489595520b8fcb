//! Weakening one named fence or ordering at a time, in doorway's own loom and
//! Miri builds only (`--cfg doorway_mutants`); a user's build has no such
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

std::thread_local! {
    static ACTIVE: Cell<Option<(&'static str, Mutation)>> = const { Cell::new(None) };
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

fn with_target<R>(target: &'static str, mutation: Mutation, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<(&'static str, Mutation)>);
    impl Drop for Reset {
        fn drop(&mut self) {
            ACTIVE.with(|active| active.set(self.0));
        }
    }
    let _reset = Reset(ACTIVE.with(|active| active.replace(Some((target, mutation)))));
    f()
}

/// Runs `f` and returns, with its result, the name of every fence and named
/// access this thread executed meanwhile.
pub fn executed_by<R>(f: impl FnOnce() -> R) -> (R, BTreeSet<&'static str>) {
    let before = EXECUTED.with(|seen| seen.take());
    let result = f();
    let seen = EXECUTED.with(|seen| core::mem::replace(&mut *seen.borrow_mut(), before));
    (result, seen)
}

/// The process-wide mutation named by `DOORWAY_MUTATION`, if any.
fn from_environment() -> Option<&'static (Mutation, String)> {
    static PARSED: OnceLock<Option<(Mutation, String)>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            let spec = std::env::var("DOORWAY_MUTATION").ok()?;
            let (how, site) = spec.split_once(':')?;
            let how = match how {
                "removed" => Mutation::Removed,
                "weakened" => Mutation::Weakened,
                other => panic!("DOORWAY_MUTATION: unknown mutation `{other}`"),
            };
            Some((how, String::from(site)))
        })
        .as_ref()
}

/// The mutation in force for `target`, if any; records the target as
/// executed.
fn mutation_of(target: &'static str) -> Option<Mutation> {
    let _ = EXECUTED.try_with(|seen| seen.borrow_mut().insert(target));
    match ACTIVE.try_with(Cell::get).ok().flatten() {
        Some((active, how)) if active == target => Some(how),
        _ => from_environment()
            .filter(|(_, name)| name == target)
            .map(|&(how, _)| how),
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
