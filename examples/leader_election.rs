//! Leader election through a Paxos register, with one candidate frozen in the
//! middle of its proposal.
//!
//! Five candidate threads start together and each proposes itself. The first
//! candidate whose attempt is preempted by a higher ballot freezes right
//! there: its block holds its promise, and perhaps its vote, and it takes no
//! further step until the others have all returned with a leader. A
//! lock-based election would hang here: whoever holds the lock when it stalls
//! holds it forever. Then the frozen candidate resumes, finishes its proposal,
//! and learns the same leader.
//!
//! ```text
//! cargo run --release -p doorway --example leader_election
//! ```
//!
//! Whether an attempt is preempted depends on the threads' timing; a round in
//! which nobody was preempted (one candidate decided before the others
//! started) is run again with a fresh register.

mod cli;

use doorway::paxos::register::Attempt;
use doorway::paxos::register::PaxosRegister;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex, mpsc};

/// Candidates in the election.
const CANDIDATES: usize = 5;
const NAMES: [&str; CANDIDATES] = ["alice", "bob", "carol", "dave", "erin"];
/// Rounds to try before giving up on seeing a preemption.
const ROUNDS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    index: usize,
    name: &'static str,
}

impl Candidate {
    fn new(index: usize) -> Self {
        Self {
            index,
            name: NAMES[index],
        }
    }
}

const USAGE: &str = "\
usage: leader_election

Elects a leader among five candidate threads through a PaxosRegister, while
the first candidate to be preempted stays frozen in the middle of its
proposal; then it resumes and learns the same leader.";

/// What one round of the election saw.
struct Round {
    frozen: Option<usize>,
    /// Who learned what, in the order they returned.
    learned: Vec<(usize, Candidate)>,
    decided: Candidate,
}

/// What a candidate thread tells the main thread.
enum Event {
    /// This candidate was preempted and froze.
    Froze(usize),
    /// This candidate returned with this leader.
    Learned(usize, Candidate),
}

/// One election on a fresh register. The first candidate to be preempted
/// freezes until every other candidate has returned.
fn elect() -> Round {
    let mut register = PaxosRegister::<Candidate, CANDIDATES>::new();
    let start = Barrier::new(CANDIDATES);
    let someone_froze = AtomicBool::new(false);
    let (resume_tx, resume_rx) = mpsc::channel::<()>();
    let resume = Mutex::new(resume_rx);
    let (events_tx, events) = mpsc::channel::<Event>();
    let mut round = Round {
        frozen: None,
        learned: Vec::new(),
        decided: Candidate::new(0),
    };
    std::thread::scope(|s| {
        for proposer in register.proposers() {
            let (start, someone_froze, resume) = (&start, &someone_froze, &resume);
            let events = events_tx.clone();
            s.spawn(move || {
                let me = proposer.index();
                start.wait();
                let leader = match proposer.try_propose(Candidate::new(me)) {
                    Attempt::Decided(leader) => leader,
                    Attempt::Preempted(proposal) => {
                        let first = someone_froze
                            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                            .is_ok();
                        if first {
                            // Frozen mid-proposal: its promise (and perhaps its
                            // vote) sit in its block; it takes no step until
                            // the others have returned.
                            events.send(Event::Froze(me)).expect("main is listening");
                            let resume = resume.lock().expect("one frozen candidate");
                            resume.recv().expect("main resumes the frozen candidate");
                        }
                        proposal.finish()
                    }
                };
                events
                    .send(Event::Learned(me, leader))
                    .expect("main is listening");
            });
        }
        drop(events_tx);
        for event in events {
            match event {
                Event::Froze(who) => round.frozen = Some(who),
                Event::Learned(who, leader) => round.learned.push((who, leader)),
            }
            if round.frozen.is_some() && round.learned.len() == CANDIDATES - 1 {
                resume_tx.send(()).expect("the frozen candidate waits");
            }
        }
    });
    round.decided = register.decided().expect("the election is decided");
    round
}

fn main() -> ExitCode {
    if let Err(exit) =
        cli::options_or_exit(USAGE, || cli::read_args(|flag, _| Err(cli::unknown(flag))))
    {
        return exit;
    }
    println!(
        "Leader election among {CANDIDATES} candidates through a PaxosRegister<Candidate, {CANDIDATES}>"
    );
    for round in 1..=ROUNDS {
        let Round {
            frozen,
            learned,
            decided,
        } = elect();
        let Some(frozen) = frozen else {
            continue; // nobody was preempted: elect again on a fresh register
        };
        println!(
            "  round {round}: candidate {frozen} ({}) was preempted mid-proposal and froze there",
            NAMES[frozen]
        );
        for (who, leader) in &learned {
            let when = if *who == frozen {
                "resumed after the others had returned, and learned"
            } else {
                "returned: leader is"
            };
            println!(
                "  candidate {who} ({}) {when} candidate {} ({})",
                NAMES[*who], leader.index, leader.name
            );
        }
        let agreeing = learned.iter().filter(|(_, l)| *l == decided).count();
        let frozen_last = learned.last().is_some_and(|(who, _)| *who == frozen);
        println!(
            "  the register holds candidate {} ({}); {agreeing} of {CANDIDATES} candidates agree",
            decided.index, decided.name
        );
        if agreeing == CANDIDATES && frozen_last {
            println!(
                "  everyone agrees on one leader, and the others decided while candidate {frozen} \
                 stayed frozen"
            );
            return ExitCode::SUCCESS;
        }
        println!("  DISAGREEMENT or a frozen candidate that did not wait: {learned:?}");
        return ExitCode::FAILURE;
    }
    println!("  no candidate was preempted in {ROUNDS} rounds: nothing was frozen");
    ExitCode::FAILURE
}
