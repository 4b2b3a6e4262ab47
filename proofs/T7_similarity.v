(* T7 -- the similarity re-weighting bound on ||M||_inf.

   For edge weights w_ij >= 0 (0 off the graph) and ANY similarities
   beta_ij >= 0 (the code's beta lie in [0,1]; only beta >= 0 is used), the
   re-weighted adjacency is a_ij = w_ij beta_ij, the weighted degree
   d_i = sum_j a_ij, and the row-normalised Laplacian is
     L_beta[i, j] = delta_ij - a_ij / d_i   if d_i > 0,
     L_beta[i, j] = 0                       if d_i = 0 (a zero row).
   Then for alpha >= 0 every row of M_beta = gamma I - alpha L_beta has
     sum_j |M_beta[i, j]| <= max(|gamma - alpha| + alpha, |gamma|),
   i.e. ||gamma I - alpha L_beta||_inf <= max(|gamma - alpha| + alpha, |gamma|).

   Rust relying on it: esai-verify spectral.rs `m_norms_reweighted` (the
   `inf` bound "any similarity re-weighting: max(|gamma-alpha| + alpha, |gamma|)"),
   used by certify.rs `corner_norms` when the spec turns similarity on; the
   operator it bounds is esai-core graph.rs `Graph::apply_m_row_reweighted`. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms.

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
