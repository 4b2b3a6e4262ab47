(* T2 -- the Frobenius (all-agents) bound of Proposition 1, corrected
   (spec 5.2).

   E_{t+1} = M E_t + G_t as in T1, but with the operator bound
   ||M V||_F <= s ||V||_F for every V in R^{N x k} (s >= ||M||_2), g L_E-Lipschitz
   in E, ||g(0, u)|| <= K, rho = s + L_E < 1 and E_0 = 0:
     ||E_t||_F <= sqrt N * K / (1 - rho)  for all t,
   and in general ||E_{t+1}||_F <= rho ||E_t||_F + sqrt N K.

   Rust relying on it: esai-verify certify.rs `certify` (the `frobenius`
   condition rho = ||M||_2 + L_E, and `proposition1` = the case L_E <= L_g),
   with s from spectral.rs `dense_spectral_bound` / `sparse_spectral_bound`
   (kernel norms.rs `spectral_norm_below`, `collatz_wielandt_upper`). *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

Section Frobenius.
Variables (R : rcfType) (N k : nat) (U : Type).
Variable M : 'M[R]_N.
Variable g : 'rV[R]_k -> U -> 'rV[R]_k.
Variable u : nat -> 'I_N -> U.
Variables E G : nat -> 'M[R]_(N, k).
Variables (s LE K : R).

Hypothesis recurrence : forall t, E t.+1 = M *m E t + G t.
Hypothesis update_rows : forall t i, row i (G t) = g (row i (E t)) (u t i).
Hypothesis g_lipschitz : forall x y w, vnorm (g x w - g y w) <= LE * vnorm (x - y).
Hypothesis g_zero : forall w, vnorm (g 0 w) <= K.
Hypothesis M_op : forall V : 'M[R]_(N, k), fnorm (M *m V) <= s * fnorm V.
Hypothesis s_ge0 : 0 <= s.
Hypothesis LE_ge0 : 0 <= LE.
Hypothesis K_ge0 : 0 <= K.

Let rho := s + LE.

Lemma le_of_sqr (x b : R) : 0 <= x -> 0 <= b -> x ^+ 2 <= b ^+ 2 -> x <= b.
Proof. by move=> x0 b0; rewrite ler_sqr. Qed.

Lemma G_bound t : fnorm (G t) <= LE * fnorm (E t) + Num.sqrt N%:R * K.
Proof.
pose G0 : 'M[R]_(N, k) := \matrix_(i, j) (g 0 (u t i)) 0 j.
have rowG0 i : row i G0 = g 0 (u t i) by apply/matrixP => a b; rewrite !mxE ord1.
have -> : G t = (G t - G0) + G0 by rewrite subrK.
have h1 : fnorm (G t - G0) <= LE * fnorm (E t).
  apply: le_of_sqr; rewrite ?mulr_ge0 ?fnorm_ge0 //.
  rewrite exprMn !sqr_fnorm_rows mulr_sumr; apply: ler_sum => i _.
  rewrite linearB /= rowG0 update_rows -exprMn.
  rewrite ler_sqr ?nnegrE ?mulr_ge0 ?vnorm_ge0 //.
  by apply: le_trans (g_lipschitz _ _ _) _; rewrite subr0.
have h2 : fnorm G0 <= Num.sqrt N%:R * K.
  apply: le_of_sqr; rewrite ?mulr_ge0 ?fnorm_ge0 ?sqrtr_ge0 //.
  rewrite sqr_fnorm_rows exprMn sqr_sqrtr ?ler0n //.
  apply: le_trans (_ : \sum_(i < N) K ^+ 2 <= _).
    by apply: ler_sum => i _; rewrite rowG0 ler_sqr ?nnegrE ?vnorm_ge0.
  by rewrite sumr_const card_ord mulr_natl.
exact: le_trans (fnormD _ _) (ler_add h1 h2).
Qed.

Lemma frobenius_step t :
  fnorm (E t.+1) <= rho * fnorm (E t) + Num.sqrt N%:R * K.
Proof.
rewrite recurrence; apply: le_trans (fnormD _ _) _.
rewrite /rho mulrDl -addrA; apply: ler_add; first exact: M_op.
exact: G_bound.
Qed.

Hypothesis rho_lt1 : rho < 1.

(* T2 *)
Theorem T2_frobenius : E 0 = 0 ->
  forall t, fnorm (E t) <= Num.sqrt N%:R * K / (1 - rho).
Proof.
move=> E00.
have d0 : 0 < 1 - rho by rewrite subr_gt0.
set B := Num.sqrt N%:R * K / (1 - rho).
have B0 : 0 <= B by rewrite divr_ge0 ?mulr_ge0 ?sqrtr_ge0 // ltW.
have Bfix : rho * B + Num.sqrt N%:R * K = B by rewrite /B; field; rewrite gt_eqF.
elim=> [|t IH]; first by rewrite E00 fnorm0.
apply: le_trans (frobenius_step t) _; rewrite -{1}Bfix ler_add2r.
by apply: ler_wpmul2l; rewrite ?addr_ge0.
Qed.

End Frobenius.
