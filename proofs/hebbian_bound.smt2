; Hebbian deterministic bound (spec §5.5, corrected for 1 < δ_H < 2).
;
; H_{t+1} = (1 − δ)H_t + η E_t z_tᵀ with ‖E_t‖ ≤ B_E, ‖z_t‖ ≤ C_z gives
; h' ≤ |1 − δ| h + η B_E C_z for h = ‖H_t‖_F (‖E zᵀ‖_F = ‖E‖‖z‖). Claim: if
; 0 < δ < 2 and h ≤ B_H = η B_E C_z / (1 − |1 − δ|), then h' ≤ B_H.
; Negated: unsat proves the inductive step; with H_0 = 0 ≤ B_H, B_H bounds
; the whole trajectory.
(set-logic QF_NRA)
(declare-const d Real)
(declare-const eta Real)
(declare-const be Real)
(declare-const cz Real)
(declare-const h Real)
(declare-const h1 Real)
(declare-const bh Real)
(define-fun absr ((x Real)) Real (ite (>= x 0.0) x (- x)))
(assert (and (> d 0.0) (< d 2.0)))
(assert (and (>= eta 0.0) (>= be 0.0) (>= cz 0.0) (>= h 0.0)))
(assert (= (* bh (- 1.0 (absr (- 1.0 d)))) (* eta be cz)))
(assert (<= h bh))
(assert (<= h1 (+ (* (absr (- 1.0 d)) h) (* eta be cz))))
(assert (> h1 bh))
(check-sat)
