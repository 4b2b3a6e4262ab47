//! Runs every SMT-LIB obligation in `proofs/` through z3 and requires `unsat`
//! for each negated goal. The runner is shown able to fail on a false lemma.

use z3::{Config, Context, SatResult, Solver};

fn check(text: &str) -> SatResult {
    let mut cfg = Config::new();
    cfg.set_timeout_msec(60_000);
    let ctx = Context::new(&cfg);
    let solver = Solver::new(&ctx);
    solver.from_string(text);
    solver.check()
}

#[test]
fn every_proof_obligation_is_unsat() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proofs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "smt2"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 6,
        "expected the six obligations, found {}",
        files.len()
    );
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert_eq!(
            check(&text),
            SatResult::Unsat,
            "{} is not proven",
            f.display()
        );
    }
}

#[test]
fn a_false_lemma_is_caught() {
    // The uncorrected Hebbian bound B_H = η B C / δ is false for 1 < δ < 2
    // (spec §5.5 writes /δ; the fixed point there is η B C / (1 − |1 − δ|)).
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proofs/hebbian_bound.smt2");
    let original = std::fs::read_to_string(path).unwrap();
    let text = original.replace("(* bh (- 1.0 (absr (- 1.0 d))))", "(* bh d)");
    assert_ne!(text, original, "the substitution must apply");
    assert_eq!(check(&text), SatResult::Sat);
    // The paper's printed bound for A.2's example is not the supremum: α = 0.9 also works.
    let wrong = "(declare-const a Real)(assert (= a 0.9))(assert (>= (+ (ite (>= 0.9 (ite (>= (- 0.9 (* 2.0 a)) 0.0) (- 0.9 (* 2.0 a)) (- (* 2.0 a) 0.9))) 0.9 (ite (>= (- 0.9 (* 2.0 a)) 0.0) (- 0.9 (* 2.0 a)) (- (* 2.0 a) 0.9))) 0.05) 1.0))";
    assert_eq!(
        check(wrong),
        SatResult::Unsat,
        "α = 0.9 > 0.475 satisfies the A.2 condition"
    );
}
