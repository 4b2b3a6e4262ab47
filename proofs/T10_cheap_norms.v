(* T10 -- the cheap upper bounds on ||A||_2 the kernel also uses.

   - T10_holder: if every row sum of |A| is <= r and every column sum is <= c
     (r, c >= 0) then ||A v||^2 <= r c ||v||^2, i.e.
     ||A||_2 <= sqrt(||A||_1 ||A||_inf)  (the Schur test of T4 with x = 1).
   - T10_frobenius: ||A v|| <= ||A||_F ||v||.

   Rust relying on it: esai-verify kernel/norms.rs `holder_upper` (through
   `one_norm_upper`, `inf_norm_upper`) and `frobenius_upper`. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms T4_collatz.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

Section Cheap.
Variables (R : rcfType) (m n : nat).

Theorem T10_holder (A : 'M[R]_(m, n)) (r c : R) :
  0 <= r -> (forall i, \sum_j `|A i j| <= r) -> (forall j, \sum_i `|A i j| <= c) ->
  forall v : 'cV[R]_n, fnorm (A *m v) ^+ 2 <= r * c * fnorm v ^+ 2.
Proof.
move=> r0 hr hc v.
pose U := map_mx (fun x => `|x|) A.
pose x : 'cV[R]_n := const_mx 1.
have hU i j : `|A i j| <= U i j by rewrite mxE.
have x0 j : 0 < x j 0 by rewrite mxE ltr01.
apply: (proj1 (T4_collatz_wielandt hU x0 _ v)) => j.
rewrite mxE mxE mulr1.
apply: le_trans (_ : \sum_i U i j * r <= _).
  apply: ler_sum => i _; rewrite !mxE; apply: ler_wpmul2l; first exact: normr_ge0.
  apply: le_trans (hr i); rewrite le_eqVlt; apply/orP; left; apply/eqP.
  by apply: eq_bigr => l _; rewrite !mxE mulr1.
rewrite -mulr_suml mulrC; apply: ler_wpmul2l => //.
by apply: le_trans (hc j); rewrite le_eqVlt; apply/orP; left; apply/eqP; apply: eq_bigr => i _; rewrite mxE.
Qed.

Theorem T10_frobenius (A : 'M[R]_(m, n)) (v : 'cV[R]_n) :
  fnorm (A *m v) <= fnorm A * fnorm v.
Proof.
rewrite -ler_sqr ?nnegrE ?mulr_ge0 ?fnorm_ge0 // exprMn sqr_fnorm_col sqr_fnorm mulr_suml.
apply: ler_sum => i _; rewrite mxE.
have := cauchy_schwarz (fun j => A i j) (fun j => v j 0).
rewrite /dot /sq => h; apply: le_trans h _.
by rewrite sqr_fnorm_col.
Qed.

End Cheap.
