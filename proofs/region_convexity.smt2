; Region certification lemma used by `esai certify` for row-normalised L:
; (γ, α) ↦ ‖γI − αL‖ is convex, so at a convex combination of box corners it
; is at most the same combination of the corner values. The general proof is
; the triangle inequality and homogeneity of a norm: ‖Σ λ_v (γ_v I − α_v L)‖
; ≤ Σ λ_v ‖γ_v I − α_v L‖. Checked here in the scalar instance that the
; max-norm condition uses, f(γ, α) = |γ − α l| + α r with r ≥ 0, for two
; corners: f(λ p + (1−λ) q) ≤ λ f(p) + (1−λ) f(q). Negated: unsat proves it.
(set-logic QF_NRA)
(declare-const l Real)
(declare-const r Real)
(declare-const lam Real)
(declare-const g1 Real) (declare-const a1 Real)
(declare-const g2 Real) (declare-const a2 Real)
(define-fun absr ((x Real)) Real (ite (>= x 0.0) x (- x)))
(define-fun f ((g Real) (a Real)) Real (+ (absr (- g (* a l))) (* a r)))
(assert (>= r 0.0))
(assert (and (>= lam 0.0) (<= lam 1.0)))
(assert (> (f (+ (* lam g1) (* (- 1.0 lam) g2)) (+ (* lam a1) (* (- 1.0 lam) a2)))
           (+ (* lam (f g1 a1)) (* (- 1.0 lam) (f g2 a2)))))
(check-sat)
