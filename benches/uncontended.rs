//! Uncontended lock+unlock: one thread, nobody else in line.
//!
//! The cost of the doorway alone: for the bakery, three stores, two `SeqCst`
//! fences and `3(N - 1)` loads; for `spin::TicketMutex`, one fetch-add and one
//! store. Run with `cargo bench --bench uncontended`.

use criterion::{Criterion, criterion_group, criterion_main};
use doorway::{Bakery, Lock, RawLock};
use std::hint::black_box;

fn raw<R: RawLock>(c: &mut Criterion, name: &str) {
    let lock = R::default();
    c.bench_function(name, |b| {
        b.iter(|| {
            // SAFETY: participant 0 is used by this thread only.
            unsafe {
                black_box(&lock).lock(0);
                black_box(&lock).unlock(0);
            }
        })
    });
}

fn uncontended(c: &mut Criterion) {
    raw::<Bakery<2>>(c, "uncontended/doorway Bakery<2> raw");
    raw::<Bakery<8>>(c, "uncontended/doorway Bakery<8> raw");

    let mut counter = Lock::<Bakery<2>, u64>::new(0);
    {
        let [mut me, _] = counter.participants();
        c.bench_function("uncontended/doorway Lock<Bakery<2>> participant", |b| {
            b.iter(|| *me.lock() += 1)
        });
    }
    c.bench_function("uncontended/doorway Lock<Bakery<2>> thread slot", |b| {
        b.iter(|| *counter.lock() += 1)
    });

    let ticket = spin::mutex::TicketMutex::<u64>::new(0);
    c.bench_function("uncontended/spin TicketMutex", |b| {
        b.iter(|| *black_box(&ticket).lock() += 1)
    });
}

criterion_group!(benches, uncontended);
criterion_main!(benches);
