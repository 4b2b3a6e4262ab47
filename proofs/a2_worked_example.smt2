; Spec §5.4: the worked example of Appendix A.2 (λ_max = 2, γ_E = 0.9,
; L_g = 0.05) admits every α in [0, 0.925), not only α < 0.475 as printed:
; max(|γ|, |γ − 2α|) + L_g < 1 holds on all of [0, 0.925).
; Negated: some α in [0, 0.925) violates it. unsat proves the claim.
(set-logic QF_LRA)
(declare-const a Real)
(define-fun absr ((x Real)) Real (ite (>= x 0.0) x (- x)))
(assert (and (>= a 0.0) (< a 0.925)))
(assert (>= (+ (ite (>= (absr 0.9) (absr (- 0.9 (* 2.0 a)))) (absr 0.9) (absr (- 0.9 (* 2.0 a)))) 0.05) 1.0))
(check-sat)
