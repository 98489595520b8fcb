//! Loom models of a tournament tree of Peterson locks.
//!
//! `Tournament<4>`: participants 0 and 1 meet in the left bottom duel,
//! participant 2 climbs the right half, and the three meet at the root.
#![cfg(loom)]

use doorway::tournament::Tournament;
use doorway_loom_tests::LockBounds;

doorway_loom_tests::lock_models! {
    name: "Tournament",
    two: || Tournament::<4>::new(),
    three: || Tournament::<4>::new(),
    bounds: LockBounds::default(),
    fences: &doorway::tournament::FENCES,
    orderings: &doorway::peterson::ORDERINGS,
}
