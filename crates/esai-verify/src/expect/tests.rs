//! Tests of expectation tables, comparisons, blessing and baselines.

use super::observed::Observed;
use super::*;

fn table(text: &str) -> toml::Table {
    toml::from_str(text).expect("test TOML parses")
}

/// A certificate as `esai check` sees it: `tests/should_certify/complete-graph.toml`'s numbers.
fn seen() -> Observed {
    Observed {
        verdict: Verdict::Certified,
        margins: vec![
            ("proposition1".into(), Some(0.0999999999999983)),
            ("max_norm".into(), Some(0.09999999999999852)),
            ("hebbian_mean_square".into(), None),
        ],
        iae_bound: Some(11.000000000000172),
        hebbian_bound: Some(0.5500000000000118),
        alpha_max: vec![
            ("max_norm".into(), Some(0.8499999999991718)),
            ("frobenius".into(), Some(f64::INFINITY)),
        ],
    }
}

/// Parses `text`, requires an error, and returns its problems as lines.
fn problems(text: &str) -> Vec<String> {
    let err = Expectation::from_table(&table(text)).expect_err("the table is invalid");
    err.problems.iter().map(|p| p.to_string()).collect()
}

#[test]
fn full_table_parses_and_holds_against_a_matching_certificate() {
    let e = Expectation::from_table(&table(
        "[expect]\nverdict = \"certified\"\nmax_iae_bound = 12\nmax_hebbian_bound = 0.6\n\
         [expect.min_margin]\nmax_norm = 0.04\n[expect.min_alpha_max]\nmax_norm = 0.8\nfrobenius = inf\n",
    ))
    .unwrap();
    let out = e.compare(&seen());
    assert_eq!(out.len(), 6, "{out:?}");
    assert!(out.iter().all(|o| o.holds), "{out:?}");
}

#[test]
fn misses_are_reported_per_condition_with_both_numbers() {
    let e = Expectation::from_table(&table(
        "[expect]\nverdict = \"violated\"\nmax_iae_bound = 10\n[expect.min_margin]\nmax_norm = 0.2\nhebbian_mean_square = 0\n",
    ))
    .unwrap();
    let out = e.compare(&seen());
    let failed: Vec<_> = out.iter().filter(|o| !o.holds).collect();
    let names: Vec<_> = failed.iter().map(|o| o.condition.as_str()).collect();
    assert_eq!(
        names,
        [
            "verdict",
            "min_margin.max_norm",
            "min_margin.hebbian_mean_square",
            "max_iae_bound"
        ]
    );
    assert_eq!(failed[0].actual, "certified");
    assert_eq!(failed[1].expected_value, Some(0.2));
    assert_eq!(
        failed[2].actual, "absent",
        "a missing margin never meets a minimum"
    );
}

#[test]
fn not_certified_admits_violated_and_unknown_only() {
    let v = ExpectedVerdict::NotCertified;
    assert!(v.admits(Verdict::Violated) && v.admits(Verdict::Unknown));
    assert!(!v.admits(Verdict::Certified));
}

#[test]
fn bad_tables_name_every_field_value_and_what_is_allowed() {
    let p = problems(
        "[expect]\nverdict = \"certifed\"\nmax_iae_bound = -1\nbogus = 1\n\
         [expect.min_margin]\nmax_nrom = 0.1\nfrobenius = \"big\"\n[expect.min_alpha_max]\nmax_norm = nan\n",
    );
    assert_eq!(p.len(), 6, "{p:#?}");
    let all = p.join("\n");
    for needle in [
        "expect.bogus: unknown key; allowed verdict, min_margin",
        "expect.verdict = \"certifed\": one of \"certified\", \"violated\", \"unknown\", \"not-certified\"",
        "expect.max_iae_bound = -1: a finite number > 0",
        "expect.min_margin.max_nrom: unknown name; allowed one of proposition1, frobenius, max_norm",
        "expect.min_margin.frobenius = \"big\": a finite number",
        "expect.min_alpha_max.max_norm = nan: a number ≥ 0, or inf",
    ] {
        assert!(all.contains(needle), "lacks {needle:?}:\n{all}");
    }
}

#[test]
fn missing_verdict_and_missing_table_are_named() {
    assert!(problems("[expect]\nmax_iae_bound = 1")[0].starts_with("expect.verdict: missing"));
    assert!(problems("x = 1")[0].starts_with("expect: missing"));
    assert!(problems("expect = 3")[0].starts_with("expect = 3: a table"));
}

#[test]
fn blessed_expectation_is_met_by_its_certificate_and_reads_back() {
    let s = seen();
    let e = Expectation::bless(&s);
    assert!(e.compare(&s).iter().all(|o| o.holds), "{:?}", e.compare(&s));
    let text = e.to_toml();
    assert!(text.contains("max_norm = 0.0999\n"), "{text}");
    assert!(text.contains("max_iae_bound = 11.1\n"), "{text}");
    assert!(text.contains("frobenius = inf\n"), "{text}");
    let back = Expectation::from_table(&table(&text)).unwrap();
    assert_eq!(back, e, "{text}");
}

#[test]
fn rounding_is_outward_for_tiny_negative_and_large_numbers() {
    for x in [
        -1.5543122344752194e-15,
        -0.3500000000000026,
        12345.678,
        0.1,
        1e-300,
    ] {
        assert!(round_sig(x, false) <= x, "{x}");
        assert!(round_sig(x, true) >= x, "{x}");
    }
    assert_eq!(round_sig(0.0999999999999983, false), 0.0999);
    assert_eq!(round_sig(0.0, true), 0.0);
}

#[test]
fn changes_list_new_changed_and_removed_items() {
    let old = Expectation::from_table(&table(
        "[expect]\nverdict = \"not-certified\"\n[expect.min_margin]\nfrobenius = 0.5\n",
    ))
    .unwrap();
    let new = Expectation::bless(&seen());
    let c = new.changes_from(Some(&old)).join("\n");
    assert!(
        c.contains("verdict \"not-certified\" → \"certified\""),
        "{c}"
    );
    assert!(c.contains("min_margin.max_norm = 0.0999 (new)"), "{c}");
    assert!(c.contains("min_margin.frobenius = 0.5 (removed)"), "{c}");
    assert!(new.changes_from(Some(&new)).is_empty());
}

#[test]
fn baseline_flags_a_shrunk_margin_and_a_worse_verdict_only_past_the_tolerance() {
    let old = seen();
    let mut new = seen();
    new.margins[1].1 = Some(0.09);
    let out = new.regressions_from(&old, 1e-6);
    let bad: Vec<_> = out.iter().filter(|o| !o.holds).collect();
    assert_eq!(bad.len(), 1, "{out:?}");
    assert_eq!(bad[0].condition, "baseline.margin.max_norm");
    assert_eq!(bad[0].expected_value, Some(0.09999999999999852));
    assert_eq!(bad[0].actual_value, Some(0.09));
    assert!(new.regressions_from(&old, 0.02).iter().all(|o| o.holds));
    new.verdict = Verdict::Unknown;
    assert!(!new.regressions_from(&old, 0.02)[0].holds);
    assert!(
        old.regressions_from(&new, 0.0)[0].holds,
        "better is no regression"
    );
}
