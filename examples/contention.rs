//! What each lock costs and what it buys: every doorway lock and the
//! baselines (`spin::TicketMutex`, `parking_lot::Mutex`, `std::sync::Mutex`)
//! run the same contended counter in turn, on a pool of pinned threads.
//!
//! ```text
//! cargo run --release -p doorway --example contention -- [--threads N] [--duration SECS] [--cs NS] [--csv FILE]
//! ```
//!
//! At the end it prints, per lock: throughput, the ratio to the ticket lock,
//! fairness (most acquisitions by one thread over fewest, and Jain's index),
//! FIFO overtakes found by an audit of the FIFO locks (must be 0),
//! increments lost by the non-atomic counter (must be 0), and the core-to-core
//! cache-line round trip measured right after each lock's run. A row measured
//! while the round trip was far from the run's typical one is run once more,
//! and flagged `†` if it still is: on a virtual machine the cost of moving a
//! line can change by four times for seconds at a time.

mod cli;

use cli::Stop;
use doorway_harness::bench::contenders::lineup_len;
use doorway_harness::bench::pool::Pool;
use doorway_harness::bench::stats::machine;
use doorway_harness::bench::work::Work;
use doorway_harness::bench::{
    ContentionRow, contention_rows, contention_table, is_off_regime, typical_round_trip,
};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: contention [--threads N] [--duration SECS] [--cs NS] [--csv FILE]

Runs every lock in turn on one contended counter and prints a table of
throughput, ratio to the ticket lock, fairness, lost increments and the
core-to-core line round trip. Progress goes to stderr, the table to stdout.

  --threads N       threads contending (default: one per core; at most 4 per core)
  --duration SECS   seconds for the whole lineup, split evenly (default: 16;
                    at least 10 ms per lock)
  --cs NS           nanoseconds of work inside each critical section (default: 0)
  --csv FILE        also write the table as CSV to FILE
  -h, --help        this text";

/// The shortest run per lock: below it, thread start-up dominates.
const MIN_PER_LOCK: Duration = Duration::from_millis(10);

struct Options {
    threads: usize,
    duration: Duration,
    critical_section: Work,
    csv: Option<PathBuf>,
}

fn parse(pool: &Pool) -> Result<Options, Stop> {
    let locks = lineup_len() as u32;
    let mut options = Options {
        threads: pool.cores(),
        duration: Duration::from_secs(16),
        critical_section: Work::NONE,
        csv: None,
    };
    cli::read_args(|flag, args| {
        match flag {
            "--threads" => options.threads = cli::value(flag, args)?,
            "--duration" => options.duration = cli::seconds(flag, args, MIN_PER_LOCK * locks)?,
            "--cs" => {
                let nanos: u64 = cli::value(flag, args)?;
                if nanos > 1_000_000 {
                    return Err(format!("--cs {nanos}: at most 1000000 ns").into());
                }
                options.critical_section = Work::nanos(nanos);
            }
            "--csv" => options.csv = Some(args.value()?.into()),
            other => return Err(cli::unknown(other)),
        }
        Ok(())
    })?;
    let capacity = pool.capacity();
    if !(1..=capacity).contains(&options.threads) {
        return Err(format!(
            "--threads {}: between 1 and {capacity} (4 per core)",
            options.threads
        )
        .into());
    }
    Ok(options)
}

fn main() -> ExitCode {
    let pool = Pool::global();
    let options = match cli::options_or_exit(USAGE, || parse(pool)) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    let locks = lineup_len();
    let per_lock = options.duration / locks as u32;
    eprintln!(
        "contention: {} threads on {} ({} ns in each critical section), {:.1} s per lock",
        options.threads,
        machine(),
        options.critical_section.length(),
        per_lock.as_secs_f64()
    );
    let start = Instant::now();
    let run = |only: &dyn Fn(&str) -> bool, label: &str| {
        let mut done = 0;
        contention_rows(
            options.threads,
            per_lock,
            options.critical_section,
            Work::NONE,
            only,
            |name| {
                done += 1;
                eprint!(
                    "\r  {label}[{done}/{locks}] {name:<24} ({:.0} s elapsed)   ",
                    start.elapsed().as_secs_f64()
                );
                let _ = std::io::stderr().flush();
            },
        )
    };
    let mut rows = run(&|_| true, "");
    rerun_off_regime_rows(&mut rows, |name| run(&|n| n == name, "re-run ").pop());
    eprintln!(
        "\r  all {locks} locks done in {:.1} s{:30}",
        start.elapsed().as_secs_f64(),
        ""
    );

    let table = contention_table(&rows);
    println!("{}", table.render());
    if rows
        .iter()
        .any(|row| is_off_regime(row, typical_round_trip(&rows)))
    {
        println!(
            "\n† measured while the line round trip was more than twice away from the run's \
             typical one, even when run again: compare it with rows of its own regime only"
        );
    }
    if let Some(path) = &options.csv {
        if let Err(error) = std::fs::write(path, table.csv()) {
            eprintln!("error: --csv {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("  table written to {}", path.display());
    }

    let lost: u64 = rows.iter().map(|row| row.lost).sum();
    let overtakes: usize = rows.iter().filter_map(|row| row.overtakes).sum();
    println!("\nlost increments: {lost} (must be 0); FIFO overtakes: {overtakes} (must be 0)");
    if lost == 0 && overtakes == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs each row measured far from the typical round trip once more, and
/// keeps the run whose round trip is closer to the typical one.
fn rerun_off_regime_rows(
    rows: &mut [ContentionRow],
    mut rerun: impl FnMut(&str) -> Option<ContentionRow>,
) {
    let typical = typical_round_trip(rows);
    for row in rows.iter_mut() {
        if !is_off_regime(row, typical) {
            continue;
        }
        if let Some(again) = rerun(row.name)
            && !is_off_regime(&again, typical)
        {
            *row = again;
        }
    }
}
