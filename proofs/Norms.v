(* Common library: the Euclidean norm over a real closed field, defined as the
   square root of a sum of squares, with Cauchy-Schwarz, the triangle
   inequality, homogeneity and the bound ||sum_l c_l w_l|| <= sum_l |c_l| ||w_l||.

   Everything is stated over an arbitrary rcfType R (no axioms). The Rust
   kernel works in f64 with outward rounding; these lemmas are about the exact
   quantities its enclosures are meant to contain. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

Section Core.
Variable R : rcfType.
Variable I : finType.
Implicit Types f g : I -> R.

(* sum of squares, inner product and Euclidean norm of a finitely indexed vector *)
Definition sq f := \sum_i f i ^+ 2.
Definition dot f g := \sum_i f i * g i.
Definition nrm f := Num.sqrt (sq f).

Lemma sq_ge0 f : 0 <= sq f.
Proof. by apply: sumr_ge0 => i _; rewrite sqr_ge0. Qed.

Lemma nrm_ge0 f : 0 <= nrm f.
Proof. exact: sqrtr_ge0. Qed.

Lemma sqr_nrm f : nrm f ^+ 2 = sq f.
Proof. by rewrite sqr_sqrtr // sq_ge0. Qed.

Lemma eq_sq f g : f =1 g -> sq f = sq g.
Proof. by move=> e; apply: eq_bigr => i _; rewrite e. Qed.

Lemma eq_nrm f g : f =1 g -> nrm f = nrm g.
Proof. by move=> e; rewrite /nrm (eq_sq e). Qed.

Lemma sq_eq0 f : sq f = 0 -> forall i, f i = 0.
Proof.
move=> H i; apply/eqP; rewrite -sqrf_eq0; apply/eqP.
by apply: (psumr_eq0P _ H) => // j _; exact: sqr_ge0.
Qed.

Lemma nrm0 : nrm (fun=> 0) = 0.
Proof. by rewrite /nrm /sq big1 ?sqrtr0 // => i _; rewrite expr0n. Qed.

Lemma nrm_eq0 f : nrm f = 0 -> forall i, f i = 0.
Proof.
move=> H; apply: sq_eq0; apply/eqP; rewrite eq_le sq_ge0 andbT.
by move/eqP: H; rewrite sqrtr_eq0.
Qed.

Lemma sq_lin x y f g :
  sq (fun i => x * f i - y * g i) = x ^+ 2 * sq f - 2 * x * y * dot f g + y ^+ 2 * sq g.
Proof.
rewrite /sq /dot !mulr_sumr -sumrB -big_split /=.
by apply: eq_bigr => i _; ring.
Qed.

Lemma cauchy_schwarz f g : dot f g ^+ 2 <= sq f * sq g.
Proof.
have [g0|gn0] := eqVneq (sq g) 0.
  have -> : dot f g = 0 by rewrite /dot big1 // => i _; rewrite (sq_eq0 g0) mulr0.
  by rewrite expr0n /= mulr_ge0 ?sq_ge0.
have cpos : 0 < sq g by rewrite lt_def gn0 sq_ge0.
have := sq_ge0 (fun i => sq g * f i - dot f g * g i).
rewrite sq_lin.
have -> : sq g ^+ 2 * sq f - 2 * sq g * dot f g * dot f g + dot f g ^+ 2 * sq g =
          sq g * (sq f * sq g - dot f g ^+ 2) by ring.
by rewrite pmulr_rge0 // subr_ge0.
Qed.

Lemma dot_le f g : dot f g <= nrm f * nrm g.
Proof.
apply: le_trans (ler_norm _) _.
rewrite -ler_sqr ?nnegrE ?normr_ge0 ?mulr_ge0 ?nrm_ge0 //.
by rewrite exprMn !sqr_nrm real_normK ?num_real // cauchy_schwarz.
Qed.

Lemma sq_add f g : sq (fun i => f i + g i) = sq f + dot f g *+ 2 + sq g.
Proof.
rewrite /sq /dot -mulr_natr mulr_suml -!big_split /=.
by apply: eq_bigr => i _; ring.
Qed.

(* triangle inequality *)
Lemma nrm_triangle f g : nrm (fun i => f i + g i) <= nrm f + nrm g.
Proof.
rewrite -ler_sqr ?nnegrE ?addr_ge0 ?nrm_ge0 //.
rewrite sqr_nrm sq_add sqrrD !sqr_nrm ler_add2r ler_add2l ler_pmuln2r //.
exact: dot_le.
Qed.

Lemma sq_scale c f : sq (fun i => c * f i) = c ^+ 2 * sq f.
Proof. by rewrite /sq mulr_sumr; apply: eq_bigr => i _; rewrite exprMn. Qed.

(* homogeneity *)
Lemma nrm_scale c f : nrm (fun i => c * f i) = `|c| * nrm f.
Proof. by rewrite /nrm sq_scale sqrtrM ?sqr_ge0 // sqrtr_sqr. Qed.

Lemma nrm_opp f : nrm (fun i => - f i) = nrm f.
Proof.
rewrite (eq_nrm (g := fun i => -1 * f i)) ?nrm_scale ?normrN ?normr1 ?mul1r //.
by move=> i; rewrite mulN1r.
Qed.

(* ||sum_l F_l|| <= sum_l ||F_l|| *)
Lemma nrm_sum (J : Type) (r : seq J) (F : J -> I -> R) :
  nrm (fun i => \sum_(l <- r) F l i) <= \sum_(l <- r) nrm (F l).
Proof.
elim: r => [|a r IH].
  by rewrite big_nil (eq_nrm (g := fun=> 0)) ?nrm0 // => i; rewrite big_nil.
rewrite big_cons (eq_nrm (g := fun i => F a i + \sum_(l <- r) F l i)) => [|i].
  by apply: le_trans (nrm_triangle _ _) _; rewrite ler_add2l.
by rewrite big_cons.
Qed.

(* ||sum_l c_l w_l|| <= sum_l |c_l| ||w_l|| *)
Lemma nrm_lincomb (J : Type) (r : seq J) (c : J -> R) (w : J -> I -> R) :
  nrm (fun i => \sum_(l <- r) c l * w l i) <= \sum_(l <- r) `|c l| * nrm (w l).
Proof.
apply: le_trans (nrm_sum r (fun l i => c l * w l i)) _.
by apply: ler_sum => l _; rewrite nrm_scale.
Qed.

End Core.

(* ------------------------------------------------------------------------ *)
(* Norms of matrices and vectors.                                            *)
Section Matrices.
Variable R : rcfType.

(* Frobenius norm of an m x n matrix; for a row or column vector this is the
   Euclidean norm. *)
Definition fnorm m n (A : 'M[R]_(m, n)) := nrm (fun p : 'I_m * 'I_n => A p.1 p.2).

(* Euclidean norm of a row vector, written over its k entries. *)
Definition vnorm k (v : 'rV[R]_k) := nrm (fun j : 'I_k => v 0 j).

Lemma fnorm_ge0 m n (A : 'M[R]_(m, n)) : 0 <= fnorm A.
Proof. exact: nrm_ge0. Qed.

Lemma vnorm_ge0 k (v : 'rV[R]_k) : 0 <= vnorm v.
Proof. exact: nrm_ge0. Qed.

Lemma sqr_fnorm m n (A : 'M[R]_(m, n)) : fnorm A ^+ 2 = \sum_i \sum_j A i j ^+ 2.
Proof. by rewrite sqr_nrm /sq -(pair_big xpredT xpredT (fun i j => A i j ^+ 2)). Qed.

Lemma sqr_vnorm k (v : 'rV[R]_k) : vnorm v ^+ 2 = \sum_j v 0 j ^+ 2.
Proof. by rewrite sqr_nrm. Qed.

Lemma vnorm_fnorm k (v : 'rV[R]_k) : vnorm v = fnorm v.
Proof.
rewrite /vnorm /fnorm /nrm; congr Num.sqrt.
by rewrite /sq -(pair_big xpredT xpredT (fun i j => v i j ^+ 2)) big_ord1.
Qed.

(* a matrix's squared Frobenius norm is the sum of its rows' squared norms *)
Lemma sqr_fnorm_rows m n (A : 'M[R]_(m, n)) :
  fnorm A ^+ 2 = \sum_i vnorm (row i A) ^+ 2.
Proof.
rewrite sqr_fnorm; apply: eq_bigr => i _; rewrite sqr_vnorm.
by apply: eq_bigr => j _; rewrite mxE.
Qed.

Lemma fnormD m n (A B : 'M[R]_(m, n)) : fnorm (A + B) <= fnorm A + fnorm B.
Proof.
rewrite /fnorm (eq_nrm (g := fun p => A p.1 p.2 + B p.1 p.2)) ?nrm_triangle //.
by move=> p; rewrite mxE.
Qed.

Lemma fnormZ m n c (A : 'M[R]_(m, n)) : fnorm (c *: A) = `|c| * fnorm A.
Proof.
rewrite /fnorm -nrm_scale; apply: eq_nrm => p; by rewrite mxE.
Qed.

Lemma fnormN m n (A : 'M[R]_(m, n)) : fnorm (- A) = fnorm A.
Proof. by rewrite -scaleN1r fnormZ normrN normr1 mul1r. Qed.

Lemma fnorm0 m n : fnorm (0 : 'M[R]_(m, n)) = 0.
Proof. by rewrite /fnorm (eq_nrm (g := fun=> 0)) ?nrm0 // => p; rewrite mxE. Qed.

Lemma fnorm_eq0 m n (A : 'M[R]_(m, n)) : fnorm A = 0 -> A = 0.
Proof.
move=> /nrm_eq0 H; apply/matrixP => i j; rewrite mxE.
exact: (H (i, j)).
Qed.

Lemma vnormD k (u v : 'rV[R]_k) : vnorm (u + v) <= vnorm u + vnorm v.
Proof. by rewrite !vnorm_fnorm fnormD. Qed.

Lemma vnormZ k c (v : 'rV[R]_k) : vnorm (c *: v) = `|c| * vnorm v.
Proof. by rewrite !vnorm_fnorm fnormZ. Qed.

Lemma vnorm0 k : vnorm (0 : 'rV[R]_k) = 0.
Proof. by rewrite vnorm_fnorm fnorm0. Qed.

Lemma vnormB_le k (u v : 'rV[R]_k) : vnorm u <= vnorm (u - v) + vnorm v.
Proof. by rewrite -{1}(subrK v u) vnormD. Qed.

(* row i of M *m E is sum_l M i l * (row l E) *)
Lemma vnorm_row_mul N k (M : 'M[R]_N) (E : 'M[R]_(N, k)) i :
  vnorm (row i (M *m E)) <= \sum_l `|M i l| * vnorm (row l E).
Proof.
rewrite /vnorm (eq_nrm (g := fun j => \sum_l M i l * row l E 0 j)).
  exact: nrm_lincomb.
by move=> j; rewrite !mxE; apply: eq_bigr => l _; rewrite !mxE.
Qed.

(* squared Euclidean norm of a column vector *)
Lemma sqr_fnorm_col n (v : 'cV[R]_n) : fnorm v ^+ 2 = \sum_i v i 0 ^+ 2.
Proof. by rewrite sqr_fnorm; apply: eq_bigr => i _; rewrite big_ord1. Qed.

Lemma fnorm_col_eq0 n (v : 'cV[R]_n) : v != 0 -> 0 < fnorm v.
Proof.
move=> vn0; rewrite lt_def fnorm_ge0 andbT; apply/eqP => /fnorm_eq0 v0.
by rewrite v0 eqxx in vn0.
Qed.

(* the inner product of two column vectors as a 1x1 matrix product *)
Lemma tr_mul_col n (u v : 'cV[R]_n) : (u^T *m v) 0 0 = \sum_i u i 0 * v i 0.
Proof. by rewrite mxE; apply: eq_bigr => i _; rewrite mxE. Qed.

Lemma sqr_fnorm_tr n (v : 'cV[R]_n) : fnorm v ^+ 2 = (v^T *m v) 0 0.
Proof. by rewrite sqr_fnorm_col tr_mul_col; apply: eq_bigr => i _; rewrite expr2. Qed.

End Matrices.
