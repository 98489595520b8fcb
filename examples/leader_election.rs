//! Leader election through a Paxos register, with one candidate stalled in
//! the middle of its ballot.
//!
//! Every candidate thread proposes itself; the register decides one of them,
//! the same for everyone. One candidate is frozen after a chosen number of
//! shared-memory steps (by default right after it has voted for itself and
//! before it has checked that nobody outranked it) and stays frozen until the
//! others have all returned with a leader. A lock-based election would hang
//! here: whoever holds the lock when it stalls holds it forever. Then the
//! stalled candidate resumes and learns the same leader.
//!
//! ```text
//! cargo run --release --example leader_election -- [--stall-after STEPS] [--stalled INDEX]
//! ```
//!
//! The stall uses `doorway::harness_paxos`, the crate's test hook for
//! stopping a proposer between two of its shared-memory steps; no public API
//! offers that, on purpose.

mod cli;

use cli::{Flags, Stop};
use doorway::PaxosRegister;
use doorway::harness_paxos::propose_pausing_after;
use std::process::ExitCode;
use std::sync::mpsc;

/// Candidates in the election.
const CANDIDATES: usize = 5;
const NAMES: [&str; CANDIDATES] = ["alice", "bob", "carol", "dave", "erin"];

#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    index: usize,
    name: &'static str,
}

struct Options {
    stalled: usize,
    stall_after: usize,
}

/// Steps of candidate `i ≠ 0` up to and including its vote: the decision
/// load, its input, its promise (phase 1), the other blocks, its vote.
const fn steps_to_vote(candidates: usize) -> usize {
    1 + 1 + 1 + (candidates - 1) + 1
}

const USAGE: &str = "\
usage: leader_election [--stalled INDEX] [--stall-after STEPS]

  --stalled INDEX      the candidate that stalls (0 to 4; default 2)
  --stall-after STEPS  shared-memory steps it takes before stalling (default 8:
                       it has promised its ballot and voted for itself, and has
                       not yet re-read the others)";

fn parse_options() -> Result<Options, Stop> {
    let mut options = Options {
        stalled: 2,
        stall_after: steps_to_vote(CANDIDATES),
    };
    let mut flags = Flags::from_env();
    while let Some(flag) = flags.next_flag()? {
        match flag.as_str() {
            "--stalled" => options.stalled = flags.value(&flag)?,
            "--stall-after" => options.stall_after = flags.value(&flag)?,
            other => return Err(cli::unknown(other)),
        }
    }
    if options.stalled >= CANDIDATES {
        return Err(format!("--stalled must be below {CANDIDATES}").into());
    }
    Ok(options)
}

/// Where candidate `me` is after `steps` steps of a lone proposal, with
/// one-word blocks (targets with 64-bit atomics). Candidate 0's first ballot
/// is the lowest of all and skips phase 1.
fn where_in_the_ballot(me: usize, steps: usize) -> String {
    if !cfg!(target_has_atomic = "64") {
        return String::new();
    }
    let others = CANDIDATES - 1;
    let ballot = me + 1;
    let vote = if me == 0 {
        3
    } else {
        steps_to_vote(CANDIDATES)
    };
    let what = match steps {
        0..=2 => "before it wrote anything to its block".to_string(),
        3 if me != 0 => format!("right after promising ballot {ballot} (phase 1)"),
        s if s < vote => format!("while reading the other blocks after promising ballot {ballot}"),
        s if s == vote => format!("right after voting for itself at ballot {ballot} (phase 2)"),
        s if s < vote + others => "while re-reading the other blocks after its vote".to_string(),
        _ => "after its re-read, about to publish the decision".to_string(),
    };
    format!(": {what}")
}

fn main() -> ExitCode {
    let Options {
        stalled,
        stall_after,
    } = match cli::options_or_exit(USAGE, parse_options) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    println!(
        "Leader election among {CANDIDATES} candidates through a PaxosRegister<Candidate, {CANDIDATES}>"
    );

    let mut register = PaxosRegister::<Candidate, CANDIDATES>::new();
    let (stalled_tx, stalled_rx) = mpsc::channel::<()>();
    let (resume_tx, resume_rx) = mpsc::channel::<()>();
    let mut learned: Vec<(usize, Candidate)> = Vec::new();
    let mut stall_happened = false;
    let resume_rx = resume_rx;

    std::thread::scope(|s| {
        let mut proposers: Vec<_> = register.proposers().into_iter().map(Some).collect();
        let candidate = |index: usize| Candidate {
            index,
            name: NAMES[index],
        };

        // The stalled candidate runs alone until it freezes mid-ballot.
        let proposer = proposers[stalled].take().expect("each index once");
        let frozen = s.spawn(move || {
            propose_pausing_after(proposer, candidate(stalled), stall_after, || {
                stalled_tx.send(()).expect("main is listening");
                resume_rx
                    .recv()
                    .expect("main resumes the stalled candidate");
            })
        });
        stall_happened = stalled_rx.recv().is_ok();
        if stall_happened {
            println!(
                "  candidate {stalled} ({}) froze after {stall_after} shared-memory steps{}",
                NAMES[stalled],
                where_in_the_ballot(stalled, stall_after)
            );
        } else {
            println!(
                "  candidate {stalled} ({}) decided in fewer than {stall_after} steps: nothing to stall",
                NAMES[stalled]
            );
        }

        // The others run while it stays frozen.
        let running: Vec<_> = proposers
            .into_iter()
            .flatten()
            .map(|proposer| {
                let me = candidate(proposer.index());
                (me.index, s.spawn(move || proposer.propose(me)))
            })
            .collect();
        for (index, handle) in running {
            let leader = handle.join().expect("a candidate panicked");
            println!(
                "  candidate {index} ({}) returned: leader is candidate {} ({})",
                NAMES[index], leader.index, leader.name
            );
            learned.push((index, leader));
        }
        if stall_happened {
            println!(
                "  all {} running candidates returned while candidate {stalled} stayed frozen",
                CANDIDATES - 1
            );
        }

        resume_tx.send(()).ok();
        let (leader, _) = frozen.join().expect("the stalled candidate panicked");
        println!(
            "  candidate {stalled} ({}) resumed and learned: leader is candidate {} ({})",
            NAMES[stalled], leader.index, leader.name
        );
        learned.push((stalled, leader));
    });

    let decided = register.decided().expect("the election is decided");
    let agreeing = learned
        .iter()
        .filter(|(_, leader)| *leader == decided)
        .count();
    println!(
        "  the register holds candidate {} ({}); {agreeing} of {CANDIDATES} candidates agree",
        decided.index, decided.name
    );
    if decided.index == stalled && stall_happened {
        println!(
            "  the others found the frozen candidate's vote and finished its ballot for it \
             (a higher ballot must adopt the highest vote it reads)"
        );
    }
    if agreeing == CANDIDATES {
        println!("  everyone agrees on one leader, and nobody waited for the stalled candidate");
        ExitCode::SUCCESS
    } else {
        println!("  DISAGREEMENT: {learned:?}");
        ExitCode::FAILURE
    }
}
