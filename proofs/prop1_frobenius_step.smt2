; Proposition 1, Frobenius variant: the inductive step of the IAE bound.
;
; With e = ‖𝐄_t‖_F, e' = ‖𝐄_{t+1}‖_F, m ≥ ‖M‖₂ (M = γ_E I − αL acting on the
; agent index), L_E the Lipschitz constant of g_φ in E, K ≥ sup‖g_φ(0, u)‖ and
; s = √N, the vector inequalities (triangle inequality, ‖M𝐄‖_F ≤ ‖M‖₂‖𝐄‖_F,
; ‖G‖_F ≤ L_E ‖𝐄‖_F + √N K) give the hypothesis H below. Claim: if
; ρ = m + L_E < 1 and e ≤ B = sK/(1 − ρ), then e' ≤ B.
; We assert the hypotheses and the NEGATED claim: unsat proves the step.
(set-logic QF_NRA)
(declare-const m Real)
(declare-const le Real)
(declare-const k Real)
(declare-const s Real)
(declare-const e Real)
(declare-const e1 Real)
(declare-const b Real)
(assert (>= m 0.0))
(assert (>= le 0.0))
(assert (>= k 0.0))
(assert (>= s 1.0))
(assert (>= e 0.0))
(assert (< (+ m le) 1.0))
(assert (= (* b (- 1.0 (+ m le))) (* s k)))  ; B = sK/(1 − ρ), division-free
(assert (<= e b))                            ; induction hypothesis
(assert (<= e1 (+ (* m e) (* le e) (* s k)))) ; H
(assert (> e1 b))                            ; negated claim
(check-sat)
