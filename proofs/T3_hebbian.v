(* T3 -- the deterministic Hebbian bound (spec 5.5, corrected denominator).

   H_{t+1} = (1 - delta) H_t + eta E_t z_t^T, H_t in R^{k x d}, E_t in R^k,
   z_t in R^d, ||E_t|| <= B, ||z_t|| <= C, 0 < delta < 2, eta >= 0. Then
     ||H_t||_F <= |1 - delta|^t ||H_0||_F + eta B C / (1 - |1 - delta|)
   and with H_0 = 0, ||H_t||_F <= eta B C / (1 - |1 - delta|).
   For delta <= 1 the denominator is delta; for delta > 1 it is 2 - delta
   (the spec's "/delta" is false there: see Counterexamples.v).

   Rust relying on it: esai-verify certify.rs `certify` (the
   `hebbian_deterministic` check and its bound B_H), the runtime monitor's
   Hebbian bound. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

Section Outer.
Variable R : rcfType.

(* ||e z^T||_F = ||e|| ||z|| *)
Lemma fnorm_outer k d (e : 'cV[R]_k) (z : 'cV[R]_d) :
  fnorm (e *m z^T) = fnorm e * fnorm z.
Proof.
apply/eqP; rewrite -(@eqr_expn2 _ 2) ?mulr_ge0 ?fnorm_ge0 //; apply/eqP.
rewrite exprMn !sqr_fnorm_col sqr_fnorm mulr_suml.
apply: eq_bigr => i _; rewrite mulr_sumr; apply: eq_bigr => j _.
by rewrite !mxE big_ord1 !mxE exprMn.
Qed.

End Outer.

Section Hebbian.
Variables (R : rcfType) (k d : nat).
Variables (H : nat -> 'M[R]_(k, d)) (e : nat -> 'cV[R]_k) (z : nat -> 'cV[R]_d).
Variables (delta eta B C : R).

Hypothesis hebbian : forall t, H t.+1 = (1 - delta) *: H t + eta *: (e t *m (z t)^T).
Hypothesis e_bound : forall t, fnorm (e t) <= B.
Hypothesis z_bound : forall t, fnorm (z t) <= C.
Hypothesis delta_pos : 0 < delta.
Hypothesis delta_lt2 : delta < 2.
Hypothesis eta_ge0 : 0 <= eta.

Let q := `|1 - delta|.
Let BH := eta * B * C / (1 - q).

Lemma q_lt1 : q < 1.
Proof.
rewrite /q ltr_norml; apply/andP; split; rewrite -subr_gt0.
  have -> : 1 - delta - - 1 = 2 - delta by ring.
  by rewrite subr_gt0.
have -> : 1 - (1 - delta) = delta by ring.
exact: delta_pos.
Qed.

Lemma B_ge0 : 0 <= B.
Proof. exact: le_trans (fnorm_ge0 _) (e_bound 0). Qed.

Lemma C_ge0 : 0 <= C.
Proof. exact: le_trans (fnorm_ge0 _) (z_bound 0). Qed.

Lemma BH_ge0 : 0 <= BH.
Proof. by rewrite divr_ge0 ?mulr_ge0 ?B_ge0 ?C_ge0 // subr_ge0 ltW // q_lt1. Qed.

Lemma BH_fixed : q * BH + eta * B * C = BH.
Proof.
have h : 1 - q != 0 by rewrite subr_eq0 eq_sym lt_eqF // q_lt1.
rewrite /BH; field; exact: h.
Qed.

Lemma hebbian_step t : fnorm (H t.+1) <= q * fnorm (H t) + eta * B * C.
Proof.
rewrite hebbian; apply: le_trans (fnormD _ _) _; rewrite !fnormZ fnorm_outer.
rewrite ler_add2l (ger0_norm eta_ge0) -mulrA ler_wpmul2l //.
by rewrite ler_pmul ?fnorm_ge0.
Qed.

(* T3, general start *)
Theorem T3_hebbian_general :
  forall t, fnorm (H t) <= q ^+ t * fnorm (H 0) + eta * B * C / (1 - q).
Proof.
elim=> [|t IH]; first by rewrite expr0 mul1r ler_addl BH_ge0.
apply: le_trans (hebbian_step t) _.
have eq : q ^+ t.+1 * fnorm (H 0) + BH = q * (q ^+ t * fnorm (H 0) + BH) + eta * B * C.
  by rewrite exprS mulrDr -addrA BH_fixed mulrA.
by rewrite -/BH eq ler_add2r ler_wpmul2l ?normr_ge0.
Qed.

(* T3 as the certificate uses it: H_0 = 0 *)
Theorem T3_hebbian : H 0 = 0 -> forall t, fnorm (H t) <= eta * B * C / (1 - `|1 - delta|).
Proof.
move=> H00 t; apply: le_trans (T3_hebbian_general t) _.
by rewrite H00 fnorm0 mulr0 add0r.
Qed.

End Hebbian.
