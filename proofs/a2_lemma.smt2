; Appendix A.2 lemma (symmetric L). If L is symmetric with spectrum in
; [0, λ_max], then M = γI − αL is symmetric with eigenvalues γ − αλ, so
; ‖M‖₂ = max over the spectrum of |γ − αλ|. The lemma checked here: for every
; λ in [0, λ_max], |γ − αλ| ≤ max(|γ|, |γ − α λ_max|) (a convex function of λ
; is maximal at an end point), for any real γ and α. Negated: unsat proves it.
(set-logic QF_NRA)
(declare-const g Real)
(declare-const a Real)
(declare-const lam Real)
(declare-const lmax Real)
(define-fun absr ((x Real)) Real (ite (>= x 0.0) x (- x)))
(assert (>= lmax 0.0))
(assert (and (>= lam 0.0) (<= lam lmax)))
(assert (> (absr (- g (* a lam))) (absr g)))
(assert (> (absr (- g (* a lam))) (absr (- g (* a lmax)))))
(check-sat)
