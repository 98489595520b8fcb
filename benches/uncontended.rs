//! Uncontended lock+unlock: one thread, nobody else in line.
//!
//! For the bakery the cost grows with its participants: three stores, two
//! `SeqCst` fences and `3(N − 1)` loads per acquisition, so it is measured at
//! N = 2, 4, 8, 16 and 64, beside the per-core bakery (which also reads every
//! register) and the fast bakery (whose lone caller reads none). Every other
//! lock of the lineup is measured once.

use doorway_harness::bench as harness;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use harness::contenders::{self, Contender, Family, FamilyVisitor, Visitor};
use std::hint::black_box;
use std::time::Duration;

/// Participant counts at which the bakery family is measured.
const BAKERY_SIZES: [usize; 5] = [2, 4, 8, 16, 64];

struct Uncontended<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    participants: usize,
}

impl FamilyVisitor for Uncontended<'_, '_> {
    fn family<F: Family>(&mut self) {
        // The bakery family at every size: the textbook's cost grows with N,
        // the fast bakery's must not.
        let sized = [
            contenders::TextbookBakery::NAME,
            contenders::FastBakeryLock::NAME,
            contenders::PerCoreBakery::NAME,
        ];
        let sizes: &[usize] = if sized.contains(&F::NAME) {
            &BAKERY_SIZES
        } else {
            &[2]
        };
        for &participants in sizes {
            self.participants = participants;
            F::build(participants, self);
        }
    }
}

impl Visitor for Uncontended<'_, '_> {
    fn visit<C: Contender>(&mut self, name: &'static str, lock: C) {
        self.group
            .bench_function(BenchmarkId::new(name, self.participants), |b| {
                b.iter(|| black_box(&lock).with_lock(0, || black_box(())))
            });
    }
}

fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("uncontended");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    contenders::lineup(&mut Uncontended {
        group: &mut group,
        participants: 0,
    });
    group.finish();
}

criterion_group!(benches, uncontended);
criterion_main!(benches);
