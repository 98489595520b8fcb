//! The per-core bakery with one worker pinned to each core, guarding a counter
//! that is incremented non-atomically.
//!
//! The lock has one register per core of the machine; each worker pins itself
//! to its core with `Lock::pin`, which also claims that core's register. Every
//! acquisition reads the counter and writes it back, so a single lapse of
//! mutual exclusion would lose an increment. At the end the demo prints what
//! each core did and checks the total.
//!
//! ```text
//! cargo run --release -p doorway --example pinned -- [--acquisitions N]
//! ```

mod cli;

use cli::Stop;
use doorway::{Lock, percore::MachinePerCore};
use std::process::ExitCode;
use std::sync::Barrier;
use std::time::Instant;

const USAGE: &str = "\
usage: pinned [--acquisitions N]

  --acquisitions N   lock acquisitions per core (default: 200000)";

fn parse_acquisitions() -> Result<u64, Stop> {
    let mut acquisitions = 200_000;
    cli::read_args(|flag, args| {
        match flag {
            "--acquisitions" => acquisitions = cli::value(flag, args)?,
            other => return Err(cli::unknown(other)),
        }
        Ok(())
    })?;
    Ok(acquisitions)
}

/// What the lock guards: the shared counter and each core's tally.
struct Ledger {
    counter: u64,
    by_core: Vec<u64>,
}

fn main() -> ExitCode {
    let acquisitions = match cli::options_or_exit(USAGE, parse_acquisitions) {
        Ok(acquisitions) => acquisitions,
        Err(exit) => return exit,
    };

    // One register per core this process may run on, each in its own cache line.
    let lock = MachinePerCore::new();
    let cores = lock.cores();
    let ledger = Lock::from_raw(
        lock,
        Ledger {
            counter: 0,
            by_core: vec![0; cores],
        },
    );
    println!(
        "per-core bakery: {cores} workers, one pinned to each core, {acquisitions} acquisitions each"
    );

    // Workers start together, once every one of them is pinned.
    let ready = Barrier::new(cores + 1);
    let mut start = Instant::now();
    let pinned = std::thread::scope(|s| {
        let workers: Vec<_> = (0..cores)
            .map(|core| {
                let (ledger, ready) = (&ledger, &ready);
                s.spawn(move || {
                    // Pins this thread to `core` and holds the core's register;
                    // no other thread can take it while the handle lives.
                    let pinned = ledger.pin(core).map_err(|err| err.to_string());
                    ready.wait();
                    let mut me = pinned?;
                    for _ in 0..acquisitions {
                        let mut ledger = me.lock();
                        // A read and a separate write: only mutual exclusion
                        // keeps them from interleaving with another core's.
                        let seen = ledger.counter;
                        ledger.counter = seen + 1;
                        ledger.by_core[core] += 1;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        ready.wait();
        start = Instant::now();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a worker panicked"))
            .collect::<Result<Vec<()>, String>>()
    });
    let elapsed = start.elapsed();
    if let Err(error) = pinned {
        eprintln!("error: could not pin a worker: {error}");
        return ExitCode::FAILURE;
    }

    let ledger = ledger.into_inner();
    for (core, count) in ledger.by_core.iter().enumerate() {
        println!("  core {core}: {count} acquisitions");
    }
    cli::check_counter(ledger.counter, cores as u64 * acquisitions, elapsed)
}
