//! Lamport's bakery lock guarding a counter that is incremented non-atomically.
//!
//! Each worker is one participant of a `Bakery<MAX_THREADS>`; a counter inside
//! the lock is read and written back on every acquisition, so a single lapse
//! of mutual exclusion would lose an increment. At the end the demo prints what
//! each participant did and checks the total.
//!
//! ```text
//! cargo run --release -p doorway --example bakery -- [--threads N] [--acquisitions N]
//! ```

mod cli;

use cli::Stop;
use doorway::{Lock, bakery::Bakery};
use std::process::ExitCode;
use std::time::Instant;

const MAX_THREADS: usize = 8;

struct Options {
    threads: usize,
    acquisitions: u64,
}

const USAGE: &str = "\
usage: bakery [--threads N] [--acquisitions N]

  --threads N        workers, one bakery participant each (1 to 8; default: the
                     number of cores, at least 2)
  --acquisitions N   lock acquisitions per worker (default: 200000)";

fn parse_options() -> Result<Options, Stop> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut options = Options {
        threads: cores.clamp(2, MAX_THREADS),
        acquisitions: 200_000,
    };
    cli::read_args(|flag, args| {
        match flag {
            "--threads" => options.threads = cli::value(flag, args)?,
            "--acquisitions" => options.acquisitions = cli::value(flag, args)?,
            other => return Err(cli::unknown(other)),
        }
        Ok(())
    })?;
    if !(1..=MAX_THREADS).contains(&options.threads) {
        return Err(format!("--threads {}: between 1 and {MAX_THREADS}", options.threads).into());
    }
    Ok(options)
}

/// What the lock guards: the shared counter and each participant's tally.
#[derive(Default)]
struct Ledger {
    counter: u64,
    by_participant: [u64; MAX_THREADS],
}

fn main() -> ExitCode {
    let options = match cli::options_or_exit(USAGE, parse_options) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    let Options {
        threads,
        acquisitions,
    } = options;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "Lamport's bakery lock: {threads} threads on {cores} cores, {acquisitions} acquisitions each"
    );

    let mut ledger = Lock::<Bakery<MAX_THREADS>, Ledger>::new(Ledger::default());
    let start = Instant::now();
    std::thread::scope(|s| {
        let participants: [_; MAX_THREADS] = ledger.participants();
        for mut participant in participants.into_iter().take(threads) {
            s.spawn(move || {
                let me = participant.index();
                for _ in 0..acquisitions {
                    let mut ledger = participant.lock();
                    // A read and a separate write: only mutual exclusion keeps
                    // the two from interleaving with another participant's.
                    let seen = ledger.counter;
                    ledger.counter = seen + 1;
                    ledger.by_participant[me] += 1;
                }
            });
        }
    });
    let elapsed = start.elapsed();

    let ledger = ledger.into_inner();
    for (me, count) in ledger.by_participant.iter().take(threads).enumerate() {
        println!("  participant {me}: {count} acquisitions");
    }
    cli::check_counter(ledger.counter, threads as u64 * acquisitions, elapsed)
}
