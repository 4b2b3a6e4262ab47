; Proposition 1, per-agent max-norm variant: the inductive step, for N = 3
; agents written out (the argument is the same for every N).
;
; e_i = ‖E_i,t‖, f_i = ‖E_i,t+1‖, a_ij = |M_ij|, r ≥ ‖M‖∞ = max_i Σ_j a_ij.
; Per agent: f_i ≤ Σ_j a_ij e_j + L_E e_i + K (triangle inequality and the
; Lipschitz property of g_φ in E). Claim: if r + L_E < 1 and every e_j ≤ B with
; B = K/(1 − r − L_E), then every f_i ≤ B. Negated claim asserted: unsat proves it.
(set-logic QF_NRA)
(declare-const r Real)
(declare-const le Real)
(declare-const k Real)
(declare-const b Real)
(declare-const a11 Real) (declare-const a12 Real) (declare-const a13 Real)
(declare-const a21 Real) (declare-const a22 Real) (declare-const a23 Real)
(declare-const a31 Real) (declare-const a32 Real) (declare-const a33 Real)
(declare-const e1 Real) (declare-const e2 Real) (declare-const e3 Real)
(declare-const f1 Real) (declare-const f2 Real) (declare-const f3 Real)
(assert (and (>= a11 0.0) (>= a12 0.0) (>= a13 0.0) (>= a21 0.0) (>= a22 0.0) (>= a23 0.0) (>= a31 0.0) (>= a32 0.0) (>= a33 0.0)))
(assert (<= (+ a11 a12 a13) r))
(assert (<= (+ a21 a22 a23) r))
(assert (<= (+ a31 a32 a33) r))
(assert (and (>= le 0.0) (>= k 0.0) (< (+ r le) 1.0)))
(assert (= (* b (- 1.0 (+ r le))) k))
(assert (and (>= e1 0.0) (>= e2 0.0) (>= e3 0.0) (<= e1 b) (<= e2 b) (<= e3 b)))
(assert (<= f1 (+ (* a11 e1) (* a12 e2) (* a13 e3) (* le e1) k)))
(assert (<= f2 (+ (* a21 e1) (* a22 e2) (* a23 e3) (* le e2) k)))
(assert (<= f3 (+ (* a31 e1) (* a32 e2) (* a33 e3) (* le e3) k)))
(assert (or (> f1 b) (> f2 b) (> f3 b)))
(check-sat)
