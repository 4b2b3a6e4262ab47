(* Deliberately false variants, refuted in Coq.

   1. T1 without rho < 1. N = k = 1, M = [1] (||M||_inf = 1), g(x, u) = K > 0
      (constant, so L_E = 0, ||g(0,u)|| = K): every hypothesis of T1 holds
      except rho = 1 < 1, and E_t = t K:
      - CE_T1_unbounded: over an Archimedean field no bound B holds for all t;
      - CE_T1_rho2: with M = [2] (rho = 2), the "bound" K/(1 - rho) = -K is
        already violated at t = 1.
   2. The Hebbian bound with the spec's "/delta" for delta > 1 is false:
      k = d = 1, E = z = 1, eta = 1, delta = 3/2, H_0 = 0 gives
      ||H_1|| = 1 > 2/3 = eta B C / delta  (CE_T3_over_delta), while T3's
      eta B C / (1 - |1 - delta|) = 2 holds. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

Section CE.
Variable R : rcfType.

Lemma vnorm1 (v : 'rV[R]_1) : vnorm v = `|v 0 0|.
Proof. by rewrite /vnorm /nrm /sq big_ord1 sqrtr_sqr. Qed.

Lemma fnorm11 (v : 'M[R]_1) : fnorm v = `|v 0 0|.
Proof. by rewrite -[v]/(v : 'rV_1) -vnorm_fnorm vnorm1. Qed.

Section T1.
Variable K : R.
Hypothesis K_gt0 : 0 < K.
Variable c : R.   (* the single entry of M; c = 1 gives rho = 1 *)

Definition M1 : 'M[R]_1 := c%:M.
Definition g1 (x : 'rV[R]_1) (u : unit) : 'rV[R]_1 := const_mx K.
Definition G1 (t : nat) : 'M[R]_(1, 1) := const_mx K.
Fixpoint E1 (t : nat) : 'M[R]_(1, 1) := if t is t'.+1 then M1 *m E1 t' + G1 t' else 0.

(* the T1 hypotheses, with s = |c| and L_E = 0 *)
Lemma CE_T1_hypotheses :
  (forall t, E1 t.+1 = M1 *m E1 t + G1 t) /\
  (forall t i, row i (G1 t) = g1 (row i (E1 t)) tt) /\
  (forall x y w, vnorm (g1 x w - g1 y w) <= 0 * vnorm (x - y)) /\
  (forall w, vnorm (g1 0 w) <= K) /\
  (forall i, \sum_j `|M1 i j| <= `|c|) /\ E1 0 = 0.
Proof.
split; first by []. split.
  by move=> t i; apply/matrixP => a b; rewrite !mxE.
split; first by move=> x y w; rewrite subrr vnorm0 mul0r.
split; first by move=> w; rewrite vnorm1 mxE ger0_norm // ltW.
split; last by []. by move=> i; rewrite big_ord1 !ord1 mxE /= mulr1n.
Qed.

Lemma E1_entry t : E1 t 0 0 = \sum_(l < t) c ^+ l * K.
Proof.
elim: t => [|t IH] /=; first by rewrite mxE big_ord0.
rewrite !mxE big_ord1 IH !mxE /= mulr1n big_ord_recl expr0 mul1r addrC.
by rewrite mulr_sumr; congr (_ + _); apply: eq_bigr => l _; rewrite exprS mulrA.
Qed.

End T1.

(* rho = 1: ||E_t|| = t K, unbounded over an Archimedean field *)
Theorem CE_T1_unbounded (K : R) : 0 < K ->
  (forall x : R, exists m : nat, x < m%:R) ->
  ~ (exists B, forall t, vnorm (row 0 (E1 K 1 t)) <= B).
Proof.
move=> K0 archi [B hB].
have Et t : vnorm (row 0 (E1 K 1 t)) = t%:R * K.
  rewrite vnorm1 mxE E1_entry.
  rewrite (eq_bigr (fun=> K)) => [|l _]; last by rewrite expr1n mul1r.
  by rewrite sumr_const card_ord mulr_natl ger0_norm // mulrn_wge0 // ltW.
have [m hm] := archi (B / K).
have := hB m; rewrite Et -ler_pdivl_mulr // => hle.
by have := lt_le_trans hm hle; rewrite ltxx.
Qed.

Theorem CE_T1_rho2 (K : R) : 0 < K ->
  ~ (forall t, vnorm (row 0 (E1 K 2 t)) <= K / (1 - 2)).
Proof.
move=> K0 h; have := h 1%N.
rewrite vnorm1 mxE E1_entry big_ord1 expr0 mul1r (ger0_norm (ltW K0)).
have -> : K / (1 - 2) = - K.
  have e : (1 - 2 : R) = -1 by rewrite -[2]/(1 + 1 : R) opprD addrA subrr add0r.
  by rewrite e invrN invr1 mulrN1.
move=> hK; have : K <= 0 by apply: le_trans hK _; rewrite oppr_le0 ltW.
by rewrite leNgt K0.
Qed.

(* the Hebbian bound with /delta, delta = 3/2 > 1 *)
Section T3.
Let delta : R := 3%:R / 2%:R.
Definition e1 : 'cV[R]_1 := 1%:M.
Definition z1 : 'cV[R]_1 := 1%:M.
Fixpoint H1 (t : nat) : 'M[R]_1 :=
  if t is t'.+1 then (1 - delta) *: H1 t' + 1 *: (e1 *m z1^T) else 0.

Theorem CE_T3_over_delta :
  (fnorm e1 <= 1) /\ (fnorm z1 <= 1) /\ 0 < delta /\ delta < 2 /\
  ~ (forall t, fnorm (H1 t) <= 1 * 1 * 1 / delta).
Proof.
have n2 : (2%:R : R) != 0 by rewrite pnatr_eq0.
have f1 : fnorm (1%:M : 'M[R]_1) = 1 by rewrite fnorm11 mxE normr1.
split; first by rewrite /e1 f1.
split; first by rewrite /z1 f1.
split; first by rewrite /delta divr_gt0 ?ltr0n.
split.
  by rewrite /delta ltr_pdivr_mulr ?ltr0n // -natrM ltr_nat.
move=> h; have := h 1%N; rewrite /= scaler0 add0r scale1r /e1 /z1 trmx1 mulmx1 f1.
rewrite !mul1r /delta invf_div ler_pdivl_mulr ?ltr0n // mul1r ler_nat.
by [].
Qed.

(* T3's corrected bound does hold there at t = 1 *)
Lemma CE_T3_corrected_holds : fnorm (H1 1) <= 1 * 1 * 1 / (1 - `|1 - delta|).
Proof.
have f1 : fnorm (1%:M : 'M[R]_1) = 1 by rewrite fnorm11 mxE normr1.
rewrite /= scaler0 add0r scale1r /e1 /z1 trmx1 mulmx1 f1 !mul1r.
have -> : `|1 - delta| = 2%:R^-1.
  have -> : 1 - delta = - 2%:R^-1 by rewrite /delta; field.
  by rewrite normrN ger0_norm // invr_ge0 ler0n.
have -> : 1 - (2%:R : R)^-1 = 2%:R^-1 by field.
by rewrite invrK ler1n.
Qed.

End T3.
End CE.
