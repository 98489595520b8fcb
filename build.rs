//! Names for the crate's compound cfg predicates, each spelled once here.
//!
//! - `hooks`: doorway's own test hooks (`doorway::__private`), switched on by
//!   the private feature `__test_hooks`, which only doorway's own tests,
//!   models and benches enable (a crate that depends on doorway never does).
//! - `mutants`: the switches that change behaviour at run time (a weakened
//!   fence or ordering, a Paxos flaw), which exist in doorway's own loom and
//!   Miri builds only.
//! - `loom_hooks`: doorway's own loom models (spin caps, custody cells).
//! - `os_hooks`: doorway's own builds on real threads (benches' switches).
//! - `shared_file`: the file that processes map (`doorway::shm`).
//! - `robust`: the recovery protocol, for the shared file and its models.
//! - `std_or_loom`: a standard library exists (loom brings one).
//! - `threads`: operating-system threads (`std`, not loom): waits yield and
//!   sleep.
//! - `bare`: no operating system (neither `std` nor loom): waits spin.
//! - `linux`: a Linux kernel (Android's too): open file description locks
//!   and futexes.
//! - `membarrier`: Linux's `membarrier` can be called (not under Miri).
//!
//! `test` has no alias: a build script never sees it (cargo sets it for the
//! crate under test only), so an alias of it would always be false and the
//! unit tests would compile to nothing. They say `all(test, not(loom))`, and
//! `.ci/run` checks that every `mod tests` is in the test binary.

fn main() {
    cfg_aliases::cfg_aliases! {
        hooks: { feature = "__test_hooks" },
        mutants: { all(hooks, any(loom, miri)) },
        loom_hooks: { all(hooks, loom) },
        os_hooks: { all(hooks, not(loom)) },
        shared_file: { all(feature = "shm", unix, not(loom)) },
        robust: { any(shared_file, loom_hooks) },
        std_or_loom: { any(feature = "std", loom) },
        threads: { all(feature = "std", not(loom)) },
        bare: { all(not(feature = "std"), not(loom)) },
        linux: { any(target_os = "linux", target_os = "android") },
        membarrier: { all(target_os = "linux", not(miri)) },
    }
}
