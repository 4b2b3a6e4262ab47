(* T7 -- the similarity re-weighting bound on ||M||_inf.

   For edge weights w_ij >= 0 (0 off the graph) and ANY similarities
   beta_ij >= 0 (the code's beta lie in [0,1]; only beta >= 0 is used), the
   re-weighted adjacency is a_ij = w_ij beta_ij, the weighted degree
   d_i = sum_j a_ij, and the row-normalised Laplacian is
     L_beta[i, j] = delta_ij - a_ij / d_i   if d_i > 0,
     L_beta[i, j] = 0                       if d_i = 0 (a zero row).
   Then for alpha >= 0 every row of M_beta = gamma I - alpha L_beta has
     sum_j |M_beta[i, j]| <= max(|gamma - alpha| + alpha, |gamma|),
   i.e. ||gamma I - alpha L_beta||_inf <= max(|gamma - alpha| + alpha, |gamma|)
   (T7_similarity_inf). If moreover the graph is undirected (w symmetric) and
   no agent has more than Delta neighbours,
     ||(gamma I - alpha L_beta) v|| <= (max(|gamma - alpha|, |gamma|) + alpha sqrt Delta) ||v||
   (T7_similarity_two: M = C + alpha P with C diagonal, P row-stochastic on the
   rows that diffuse, column sums <= Delta, Hoelder from T10).

   Rust relying on it: esai-verify spectral.rs `m_norms_reweighted` (the
   `inf` bound "any similarity re-weighting: max(|gamma-alpha| + alpha, |gamma|)"),
   and its `two` bound "max(|gamma-alpha|, |gamma|) + alpha sqrt Delta",
   used by certify.rs `corner_norms` when the spec turns similarity on; the
   operator it bounds is esai-core graph.rs `Graph::apply_m_row_reweighted`. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms T10_cheap_norms.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

Section Similarity.
Variables (R : rcfType) (n : nat).
Variables (w beta : 'M[R]_n) (gamma alpha : R).
Hypothesis w_ge0 : forall i j, 0 <= w i j.
Hypothesis beta_ge0 : forall i j, 0 <= beta i j.
Hypothesis alpha_ge0 : 0 <= alpha.

Definition adj i j := w i j * beta i j.
Definition deg i := \sum_j adj i j.
Definition Lbeta : 'M[R]_n :=
  \matrix_(i, j) (if 0 < deg i then (i == j)%:R - adj i j / deg i else 0).
Definition Mbeta : 'M[R]_n := gamma%:M - alpha *: Lbeta.

Lemma adj_ge0 i j : 0 <= adj i j.
Proof. by rewrite mulr_ge0. Qed.

Lemma sum_delta (i : 'I_n) (c : R) : \sum_j (i == j)%:R * c = c.
Proof.
rewrite (bigD1 i) //= eqxx mul1r big1 ?addr0 // => j ji.
by rewrite eq_sym (negbTE ji) mul0r.
Qed.

(* T7 *)
Theorem T7_similarity_inf (i : 'I_n) :
  \sum_j `|Mbeta i j| <= Num.max (`|gamma - alpha| + alpha) `|gamma|.
Proof.
have Mij j : Mbeta i j = if 0 < deg i then (i == j)%:R * (gamma - alpha) + alpha * (adj i j / deg i)
                         else (i == j)%:R * gamma.
  rewrite !mxE; case: ifP => _; last by rewrite mulr0 subr0 mulr_natl.
  by rewrite mulr_natl; case: (i == j); rewrite /= ?mulr1n ?mulr0n; ring.
have [d0|d0] := boolP (0 < deg i).
  apply: le_trans (_ : `|gamma - alpha| + alpha <= _); last by rewrite le_maxr lexx.
  apply: le_trans (_ : \sum_j ((i == j)%:R * `|gamma - alpha| + alpha * (adj i j / deg i)) <= _).
    apply: ler_sum => j _; rewrite Mij d0.
    apply: le_trans (ler_norm_add _ _) _.
    have h1 : `|(i == j)%:R * (gamma - alpha)| = (i == j)%:R * `|gamma - alpha|.
      by rewrite normrM ger0_norm ?ler0n.
    have h2 : `|alpha * (adj i j / deg i)| = alpha * (adj i j / deg i).
      by rewrite ger0_norm // mulr_ge0 // divr_ge0 ?adj_ge0 // ltW.
    by rewrite h1 h2.
  rewrite big_split /= sum_delta -mulr_sumr -mulr_suml.
  by rewrite -/(deg i) divff ?mulr1 // gt_eqF.
apply: le_trans (_ : `|gamma| <= _); last by rewrite le_maxr lexx orbT.
rewrite le_eqVlt; apply/orP; left; apply/eqP.
rewrite -(sum_delta i `|gamma|); apply: eq_bigr => j _.
by rewrite Mij (negbTE d0) normrM ger0_norm ?ler0n.
Qed.

End Similarity.

Section SimilarityTwo.
Variables (R : rcfType) (n : nat).
Variables (w beta : 'M[R]_n) (gamma alpha : R) (Delta : nat).
Hypothesis w_ge0 : forall i j, 0 <= w i j.
Hypothesis beta_ge0 : forall i j, 0 <= beta i j.
Hypothesis alpha_ge0 : 0 <= alpha.
(* the graph is undirected and no agent has more than Delta neighbours *)
Hypothesis w_sym : forall i j, w i j = w j i.
Hypothesis max_degree : forall i, (#|[pred j | w i j != 0%R]| <= Delta)%N.

Let a := adj w beta.
Let d := deg w beta.

Lemma adj_le_deg i j : a i j <= d i.
Proof.
rewrite /d /deg (bigD1 j) //= ler_addl; apply: sumr_ge0 => l _.
exact: adj_ge0.
Qed.

Definition Cdiag : 'M[R]_n :=
  \matrix_(i, j) ((i == j)%:R * (if 0 < d i then gamma - alpha else gamma)).
Definition Pdiff : 'M[R]_n := \matrix_(i, j) (if 0 < d i then a i j / d i else 0).

Lemma Mbeta_split : Mbeta w beta gamma alpha = Cdiag + alpha *: Pdiff.
Proof.
apply/matrixP => i j; rewrite !mxE -/(deg w beta i) -/d -/(adj w beta i j) -/a.
by case: ifP => _; rewrite mulr_natl; case: (i == j); rewrite /= ?mulr1n ?mulr0n; ring.
Qed.

Lemma sum_delta_f (i : 'I_n) (F : 'I_n -> R) : \sum_j (i == j)%:R * F j = F i.
Proof.
rewrite (bigD1 i) //= eqxx mul1r big1 ?addr0 // => j ji.
by rewrite eq_sym (negbTE ji) mul0r.
Qed.

Lemma Cdiag_bound (v : 'cV[R]_n) :
  fnorm (Cdiag *m v) <= Num.max `|gamma - alpha| `|gamma| * fnorm v.
Proof.
set m := Num.max _ _.
have m0 : 0 <= m by rewrite le_maxr normr_ge0.
rewrite -ler_sqr ?nnegrE ?mulr_ge0 ?fnorm_ge0 // exprMn !sqr_fnorm_col mulr_sumr.
apply: ler_sum => i _.
have -> : (Cdiag *m v) i 0 = (if 0 < d i then gamma - alpha else gamma) * v i 0.
  rewrite mxE -(sum_delta_f i (fun j => (if 0 < d i then gamma - alpha else gamma) * v j 0)).
  by apply: eq_bigr => j _; rewrite mxE mulrA.
rewrite exprMn; apply: ler_wpmul2r; first exact: sqr_ge0.
rewrite -real_normK ?num_real // ler_sqr ?nnegrE ?normr_ge0 //.
by case: ifP => _; rewrite le_maxr lexx ?orbT.
Qed.

Lemma Pdiff_bound (v : 'cV[R]_n) : fnorm (Pdiff *m v) ^+ 2 <= Delta%:R * fnorm v ^+ 2.
Proof.
have P0 i j : 0 <= Pdiff i j.
  by rewrite mxE; case: ifP => // /ltW d0; rewrite divr_ge0 ?adj_ge0.
rewrite -[Delta%:R]mul1r; apply: T10_holder => // [i|j].
  rewrite (eq_bigr (fun j => Pdiff i j)) => [|j _]; last by rewrite ger0_norm.
  rewrite /Pdiff; case: (boolP (0 < d i)) => d0.
    rewrite (eq_bigr (fun j => a i j / d i)) => [|j _]; last by rewrite mxE d0.
    by rewrite -mulr_suml -/(deg w beta i) -/d divff ?gt_eqF.
  by rewrite big1 ?ler01 // => j _; rewrite mxE (negbTE d0).
apply: le_trans (_ : \sum_i ((w j i != 0) : nat)%:R <= _).
  apply: ler_sum => i _; rewrite ger0_norm // (w_sym j i).
  case: (eqVneq (w i j) 0) => [wz|wnz] /=.
    rewrite mxE; case: ifP => _; last exact: ler0n.
    rewrite /a /adj wz. rewrite (mul0r (beta i j)). by rewrite (mul0r (d i)^-1) ler0n.
  rewrite mxE; case: ifP => [d0|_]; last exact: ler01.
  by rewrite ler_pdivr_mulr // mul1r adj_le_deg.
rewrite -natr_sum ler_nat; apply: leq_trans (max_degree j).
apply: eq_leq; rewrite -sum1_card [RHS]big_mkcond /=; apply: eq_bigr => i _.
by rewrite inE; case: (w j i != 0).
Qed.

(* T7, two-norm half: ||gamma I - alpha L_beta||_2 <= max(|gamma - alpha|, |gamma|) + alpha sqrt Delta *)
Theorem T7_similarity_two (v : 'cV[R]_n) :
  fnorm (Mbeta w beta gamma alpha *m v) <=
    (Num.max `|gamma - alpha| `|gamma| + alpha * Num.sqrt Delta%:R) * fnorm v.
Proof.
rewrite Mbeta_split mulmxDl -scalemxAl mulrDl.
apply: le_trans (fnormD _ _) _; apply: ler_add; first exact: Cdiag_bound.
rewrite fnormZ ger0_norm // -mulrA; apply: ler_wpmul2l => //.
rewrite -[X in X <= _](ger0_norm (fnorm_ge0 (Pdiff *m v))) -sqrtr_sqr.
apply: le_trans (ler_wsqrtr (Pdiff_bound v)) _.
by rewrite sqrtrM ?ler0n // sqrtr_sqr ger0_norm ?fnorm_ge0.
Qed.

End SimilarityTwo.
