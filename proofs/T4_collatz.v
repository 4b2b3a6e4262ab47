(* T4 -- the sparse kernel's Collatz-Wielandt / Schur-test bound on ||A||_2.

   For U >= 0 entrywise, x > 0 entrywise and (U^T U x)_j <= c x_j for all j:
     ||U w||^2 <= c ||w||^2 for every w                      (T4_schur)
   and the |A| step: if |A_ij| <= U_ij then ||A v|| <= ||U |v| ||   (T4_abs_step)
   so ||A v||^2 <= c ||v||^2 and ||A v|| <= sqrt c ||v||    (T4_collatz_wielandt).
   No Perron-Frobenius theory is needed: the proof is the weighted AM-GM
   inequality  2 w_j w_l <= (x_l/x_j) w_j^2 + (x_j/x_l) w_l^2.

   Rust relying on it: esai-verify kernel/norms.rs `collatz_wielandt_upper`
   (U = mag(A), y = U x, z = U^T y, c = max_j z_j / x_j, returns sqrt c), used by
   spectral.rs `sparse_spectral_bound` for the sparse ||M||_2 upper bound. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

Section CollatzWielandt.
Variables (R : rcfType) (m n : nat).

Lemma amgm_weighted (a b p q : R) : 0 < p -> 0 < q ->
  a * b <= (q / p * a ^+ 2 + p / q * b ^+ 2) / 2.
Proof.
move=> p0 q0; rewrite -subr_ge0.
have -> : (q / p * a ^+ 2 + p / q * b ^+ 2) / 2 - a * b = (q * a - p * b) ^+ 2 / (2 * p * q).
  by field; rewrite !gt_eqF.
by apply: divr_ge0; [exact: sqr_ge0 | rewrite !mulr_ge0 ?ler0n ?ltW].
Qed.

(* Schur test with the Collatz-Wielandt quotient *)
Theorem T4_schur (U : 'M[R]_(m, n)) (x : 'cV[R]_n) (c : R) :
  (forall i j, 0 <= U i j) -> (forall j, 0 < x j 0) ->
  (forall j, (U^T *m (U *m x)) j 0 <= c * x j 0) ->
  forall w : 'cV[R]_n, fnorm (U *m w) ^+ 2 <= c * fnorm w ^+ 2.
Proof.
move=> U0 x0 hc w.
pose T j l := \sum_i U i j * U i l.
have T0 j l : 0 <= T j l by apply: sumr_ge0 => i _; rewrite mulr_ge0.
have Tsym j l : T j l = T l j by apply: eq_bigr => i _; rewrite mulrC.
have e1 : fnorm (U *m w) ^+ 2 = \sum_j \sum_l T j l * (w j 0 * w l 0).
  rewrite sqr_fnorm_col.
  transitivity (\sum_i \sum_j \sum_l U i j * U i l * (w j 0 * w l 0)).
    apply: eq_bigr => i _; rewrite mxE expr2 mulr_suml; apply: eq_bigr => j _.
    by rewrite mulr_sumr; apply: eq_bigr => l _; rewrite mulrACA.
  rewrite exchange_big; apply: eq_bigr => j _; rewrite exchange_big.
  by apply: eq_bigr => l _; rewrite /T mulr_suml.
have hy j : \sum_l T j l * x l 0 <= c * x j 0.
  apply: le_trans (hc j); rewrite !mxE le_eqVlt; apply/orP; left; apply/eqP.
  transitivity (\sum_l \sum_i U i j * U i l * x l 0).
    by apply: eq_bigr => l _; rewrite mulr_suml.
  rewrite exchange_big; apply: eq_bigr => i _; rewrite !mxE mulr_sumr.
  by apply: eq_bigr => l _; rewrite mulrA.
pose F j l := T j l * (x l 0 / x j 0) * w j 0 ^+ 2.
rewrite e1.
apply: le_trans (_ : \sum_j \sum_l (F j l + F l j) / 2 <= _).
  apply: ler_sum => j _; apply: ler_sum => l _.
  apply: le_trans (ler_wpmul2l (T0 j l) (amgm_weighted (w j 0) (w l 0) (x0 j) (x0 l))) _.
  by rewrite /F (Tsym l j) le_eqVlt; apply/orP; left; apply/eqP; ring.
have e2 : \sum_j \sum_l (F j l + F l j) / 2 = \sum_j \sum_l F j l.
  transitivity ((\sum_j \sum_l F j l + \sum_j \sum_l F l j) / 2).
    rewrite -big_split mulr_suml; apply: eq_bigr => j _.
    by rewrite -big_split mulr_suml.
  by rewrite [X in _ + X]exchange_big /=; field.
rewrite e2 sqr_fnorm_col mulr_sumr; apply: ler_sum => j _.
have -> : \sum_l F j l = w j 0 ^+ 2 / x j 0 * \sum_l T j l * x l 0.
  by rewrite mulr_sumr; apply: eq_bigr => l _; rewrite /F; field; rewrite gt_eqF.
apply: le_trans (ler_wpmul2l _ (hy j)) _.
  by rewrite divr_ge0 ?sqr_ge0 ?ltW.
rewrite le_eqVlt; apply/orP; left; apply/eqP; field.
by rewrite gt_eqF.
Qed.

(* the |A| step: |A| <= U entrywise gives ||A v|| <= ||U |v| || *)
Theorem T4_abs_step (A U : 'M[R]_(m, n)) (v : 'cV[R]_n) :
  (forall i j, `|A i j| <= U i j) ->
  fnorm (A *m v) <= fnorm (U *m map_mx (fun a => `|a|) v).
Proof.
move=> hAU.
rewrite -ler_sqr ?nnegrE ?fnorm_ge0 // !sqr_fnorm_col; apply: ler_sum => i _.
have h : `|(A *m v) i 0| <= (U *m map_mx (fun a => `|a|) v) i 0.
  rewrite !mxE; apply: le_trans (ler_norm_sum _ _ _) _; apply: ler_sum => j _.
  by rewrite normrM mxE ler_wpmul2r ?normr_ge0.
rewrite -[X in X <= _]real_normK ?num_real //.
by rewrite ler_sqr ?nnegrE ?normr_ge0 // (le_trans (normr_ge0 _) h).
Qed.

Lemma sqr_fnorm_abs (v : 'cV[R]_n) : fnorm (map_mx (fun a => `|a|) v) ^+ 2 = fnorm v ^+ 2.
Proof.
by rewrite !sqr_fnorm_col; apply: eq_bigr => i _; rewrite mxE real_normK ?num_real.
Qed.

(* T4 as the kernel uses it: ||A v|| <= sqrt c ||v|| for every A with |A| <= U *)
Theorem T4_collatz_wielandt (A U : 'M[R]_(m, n)) (x : 'cV[R]_n) (c : R) :
  (forall i j, `|A i j| <= U i j) -> (forall j, 0 < x j 0) ->
  (forall j, (U^T *m (U *m x)) j 0 <= c * x j 0) ->
  forall v : 'cV[R]_n,
    fnorm (A *m v) ^+ 2 <= c * fnorm v ^+ 2 /\ fnorm (A *m v) <= Num.sqrt c * fnorm v.
Proof.
move=> hAU x0 hc v.
have U0 i j : 0 <= U i j by exact: le_trans (normr_ge0 _) (hAU i j).
have h2 : fnorm (A *m v) ^+ 2 <= c * fnorm v ^+ 2.
  apply: le_trans (_ : fnorm (U *m map_mx (fun a => `|a|) v) ^+ 2 <= _).
    by rewrite ler_sqr ?nnegrE ?fnorm_ge0 ?T4_abs_step.
  by rewrite -sqr_fnorm_abs; exact: T4_schur.
split=> //.
rewrite -[X in X <= _](ger0_norm (fnorm_ge0 (A *m v))) -sqrtr_sqr.
apply: le_trans (ler_wsqrtr h2) _.
by rewrite [c * _]mulrC sqrtrM ?sqr_ge0 // sqrtr_sqr ger0_norm ?fnorm_ge0 // mulrC.
Qed.

End CollatzWielandt.
