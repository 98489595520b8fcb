//! The crate's only door to atomics, fences, cells, per-thread values and
//! waiting.
//!
//! Every other module takes these names from here, so that building with
//! `RUSTFLAGS="--cfg loom"` swaps in loom's model-checked versions everywhere
//! at once: for doorway's own models, and for users who model-check their own
//! code with doorway inside it.
//!
//! - [`atomics`]: atomics, the cell that holds guarded data, per-thread values,
//!   and [`Lazy`], which keeps a lock's registers buildable in `const` context
//!   under loom too.
//! - [`fences`]: every fence by name ([`FenceSite`]).
//! - [`orderings`]: every `Release`/`Acquire` access on an algorithm's path by
//!   name ([`Access`]), with the reason it has its ordering.
//! - [`wait`]: the one waiting policy every lock uses between two looks:
//!   spin, yield, sleep.
//! - [`sleep`]: sleeping until a participant moves, and waking exactly the
//!   waiters its move lets through.
//! - `mutation` (doorway's own test builds only): weakening one named fence at
//!   a time, so that doorway's models can show each one is needed.
//!
//! # Test hooks
//!
//! Doorway's own tests, models and benches enable the private feature
//! `__test_hooks` (a crate that depends on doorway never does), which exposes
//! test hooks in [`crate::__private`]; the switches
//! that change behaviour at run time (a weakened fence, a deliberate flaw, a
//! cap on spin-waits) exist only when the build is also a loom or Miri build.
//! A user's `--cfg loom` build has none of them.

mod atomics;
mod fences;
#[cfg(mutants)]
pub mod mutation;
mod orderings;
pub(crate) mod sleep;
mod wait;

pub(crate) use atomics::*;
pub use fences::FenceSite;
pub(crate) use fences::fence;
pub use orderings::Access;
#[cfg(hooks)]
pub use orderings::Why;
#[cfg(any(std_or_loom, target_has_atomic = "32"))]
pub(crate) use sleep::Lobby;
pub(crate) use sleep::{Beds, WakeWords};
#[cfg(feature = "std")]
pub use wait::Until;
#[cfg(os_hooks)]
pub use wait::sleeping;
pub use wait::{Forever, Patience};
pub(crate) use wait::{Nap, Relax, Turn, pause};
#[cfg(loom_hooks)]
pub use wait::{sleep_in_models, spin_cap};
