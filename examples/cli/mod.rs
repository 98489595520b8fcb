//! What the examples share: reading their flags with `lexopt` (so `--flag
//! value` and `--flag=value` both work), answering `--help`, and reporting the
//! check of a counter incremented under a lock.
//!
//! Each example includes it with `mod cli;`; a folder without `main.rs` is
//! not an example of its own.

#![allow(dead_code)] // Each example uses part of it.

use lexopt::ValueExt;
use std::fmt::Display;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

/// Why reading the arguments produced no options.
pub enum Stop {
    /// `-h` or `--help`: print the usage and succeed.
    Help,
    /// A bad argument, said in one line: print it with the usage and fail.
    Bad(String),
}

impl From<lexopt::Error> for Stop {
    fn from(error: lexopt::Error) -> Self {
        Stop::Bad(error.to_string())
    }
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Bad(message)
    }
}

/// Reads the process's arguments: `each` sees every flag but `-h`/`--help`
/// and takes its value from the parser.
pub fn read_args(
    mut each: impl FnMut(&str, &mut lexopt::Parser) -> Result<(), Stop>,
) -> Result<(), Stop> {
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            lexopt::Arg::Short('h') | lexopt::Arg::Long("help") => return Err(Stop::Help),
            lexopt::Arg::Long(flag) => {
                let flag = format!("--{flag}");
                each(&flag, &mut parser)?;
            }
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(())
}

/// The value after `flag`, parsed; an error repeats the value it refused.
pub fn value<T>(flag: &str, parser: &mut lexopt::Parser) -> Result<T, Stop>
where
    T: FromStr,
    T::Err: Display,
{
    let text = parser.value()?.string()?;
    text.parse()
        .map_err(|error| Stop::Bad(format!("{flag} {text:?}: {error}")))
}

/// A duration in seconds after `flag`, at least `min`; an error repeats the
/// value.
pub fn seconds(flag: &str, parser: &mut lexopt::Parser, min: Duration) -> Result<Duration, Stop> {
    let secs: f64 = value(flag, parser)?;
    let duration = Duration::try_from_secs_f64(secs)
        .map_err(|_| Stop::Bad(format!("{flag} {secs}: not a duration in seconds")))?;
    if duration < min {
        return Err(Stop::Bad(format!(
            "{flag} {secs}: at least {} s, or the run measures nothing but its own start",
            min.as_secs_f64()
        )));
    }
    Ok(duration)
}

/// The error for a flag the example does not know.
pub fn unknown(flag: &str) -> Stop {
    Stop::Bad(format!("unknown argument `{flag}`"))
}

/// The options `parse` reads, or the exit code once the usage has been
/// printed: success for `--help`, failure (status 2) with the error first for
/// a bad argument.
pub fn options_or_exit<O>(
    usage: &str,
    parse: impl FnOnce() -> Result<O, Stop>,
) -> Result<O, ExitCode> {
    match parse() {
        Ok(options) => Ok(options),
        Err(Stop::Help) => {
            println!("{usage}");
            Err(ExitCode::SUCCESS)
        }
        Err(Stop::Bad(error)) => {
            eprintln!("error: {error}\n\n{usage}");
            Err(ExitCode::from(2))
        }
    }
}

/// Prints the rate and whether the counter, incremented non-atomically once
/// per acquisition, lost anything; fails if it did.
pub fn check_counter(counter: u64, expected: u64, elapsed: Duration) -> ExitCode {
    let per_acquisition = elapsed.as_nanos() as f64 / expected.max(1) as f64;
    println!(
        "  {expected} acquisitions in {:.3} s, {per_acquisition:.0} ns each",
        elapsed.as_secs_f64()
    );
    if counter == expected {
        println!("  counter = {counter}: no increment lost");
        ExitCode::SUCCESS
    } else {
        println!(
            "  counter = {counter}, expected {expected}: {} increments LOST",
            expected.abs_diff(counter)
        );
        ExitCode::FAILURE
    }
}
