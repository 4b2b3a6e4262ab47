(* T5 -- positive definiteness by Cholesky, exact and interval forms, and the
   spectral-norm test built on it.

   The recursion is the one kernel/psd.rs `is_positive_definite` runs, for
   j = 0 .. n-1 (only the lower triangle a_ij, j <= i, is read):
     pivot_j = a_jj - r_j0^2 - r_j1^2 - ... - r_j,j-1^2     (left to right)
     r_jj    = sqrt pivot_j
     r_ij    = (a_ij - r_i0 r_j0 - ... - r_i,j-1 r_j,j-1) / r_jj    (i > j)
   written once for any carrier type and operations (`chol`), then used with
   the exact field operations and with interval operations.

   Theorems:
   - T5_cholesky_pd: A symmetric, every exact pivot > 0  ==>  A positive
     definite (v^T A v > 0 for v <> 0).
   - T5_interval_pd: if every interval operation encloses the exact result
     (the outward-rounding hypothesis) and every pivot interval passes the
     code's test (`pos`, i.e. lo > 0), then EVERY symmetric A whose lower
     triangle lies in the interval matrix is positive definite.
   - T5_norm_below: c^2 I - M^T M positive definite ==> ||M v|| < c ||v|| for
     all v <> 0;  T5_norm_below_tr: the same for M from M^T (the kernel works
     with the smaller Gram matrix).
   - T5_spectral_norm_below: the whole of `spectral_norm_below` for one
     orientation: interval Gram matrix (0 (+) a_0i a_0j (+) ...), tested matrix
     c2 (-) g_ii / (-g_ij), Cholesky test passing, c2 containing c^2 ==>
     ||A v|| < c ||v|| for every A inside the interval matrix, v <> 0.

   Rust relying on it: esai-verify kernel/psd.rs `is_positive_definite`,
   kernel/norms.rs `spectral_norm_below` (and through it spectral.rs
   `dense_spectral_bound`, lipschitz.rs block norms, certify.rs). *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

(* ------------------------------------------------------------------------ *)
(* The recursion, generic in the carrier.                                    *)
Section Generic.
Variables (T : Type) (n : nat) (zero : T).
Variables (sub mul : T -> T -> T) (sqr sqrtT : T -> T) (div : T -> T -> T).
Variable a : 'I_n -> 'I_n -> T.

(* the columns k < j, in increasing order (the code's loop order) *)
Definition below (j : 'I_n) := filter (fun k : 'I_n => (k < j)%N) (enum 'I_n).

Definition pivot (r : 'I_n -> 'I_n -> T) (j : 'I_n) : T :=
  foldl (fun s k => sub s (sqr (r j k))) (a j j) (below j).

Definition offd (r : 'I_n -> 'I_n -> T) (i j : 'I_n) : T :=
  foldl (fun s k => sub s (mul (r i k) (r j k))) (a i j) (below j).

(* the factor with its first c columns filled *)
Fixpoint chol_cols (c : nat) : 'I_n -> 'I_n -> T :=
  if c is c'.+1 then
    fun i k =>
      if (k < c')%N then chol_cols c' i k
      else if (k == c' :> nat) then
        (if i == k then sqrtT (pivot (chol_cols c') k)
         else div (offd (chol_cols c') i k) (sqrtT (pivot (chol_cols c') k)))
      else zero
  else fun _ _ => zero.

Definition chol := chol_cols n.

Lemma foldl_ext (S : Type) (X : eqType) (f g : S -> X -> S) z (s : seq X) :
  (forall acc x, x \in s -> f acc x = g acc x) -> foldl f z s = foldl g z s.
Proof.
elim: s z => [//|x s IH] z H /=.
by rewrite H ?mem_head // IH // => acc y ys; rewrite H // inE ys orbT.
Qed.

Lemma mem_below (j k : 'I_n) : (k \in below j) = (k < j)%N.
Proof. by rewrite mem_filter mem_enum andbT. Qed.

Lemma eq_pivot (r1 r2 : 'I_n -> 'I_n -> T) (j : 'I_n) :
  (forall i (k : 'I_n), (k < j)%N -> r1 i k = r2 i k) -> pivot r1 j = pivot r2 j.
Proof. by move=> H; apply: foldl_ext => s k; rewrite mem_below => kj; rewrite H. Qed.

Lemma eq_offd (r1 r2 : 'I_n -> 'I_n -> T) (i j : 'I_n) :
  (forall i (k : 'I_n), (k < j)%N -> r1 i k = r2 i k) -> offd r1 i j = offd r2 i j.
Proof. by move=> H; apply: foldl_ext => s k; rewrite mem_below => kj; rewrite !H. Qed.

Lemma chol_cols_stable c i (k : 'I_n) : (k < c)%N -> chol_cols c i k = chol_cols k.+1 i k.
Proof.
elim: c => [//|c IH] /=; rewrite ltnS leq_eqVlt => /orP [/eqP kc|kc].
  by rewrite kc.
by rewrite kc IH.
Qed.

Lemma chol_cols_col (j : 'I_n) :
  forall i (k : 'I_n), (k < j)%N -> chol_cols j i k = chol i k.
Proof.
move=> i k kj; rewrite /chol chol_cols_stable // (chol_cols_stable _ (ltn_ord k)) //.
Qed.

Lemma chol_diag (j : 'I_n) : chol j j = sqrtT (pivot chol j).
Proof.
rewrite /chol (chol_cols_stable _ (ltn_ord j)) /= ltnn eqxx eqxx.
by congr sqrtT; apply: eq_pivot => i k kj; rewrite chol_cols_col.
Qed.

Lemma chol_offd (i j : 'I_n) : i != j ->
  chol i j = div (offd chol i j) (sqrtT (pivot chol j)).
Proof.
move=> ij; rewrite /chol (chol_cols_stable _ (ltn_ord j)) /= ltnn eqxx (negbTE ij).
congr div; last (congr sqrtT; apply: eq_pivot => i' k kj; rewrite chol_cols_col //).
by apply: eq_offd => i' k kj; rewrite chol_cols_col.
Qed.

End Generic.

(* ------------------------------------------------------------------------ *)
(* Exact form.                                                               *)
Section Exact.
Variables (R : rcfType) (n : nat).

Definition xpivot (A : 'M[R]_n) :=
  pivot (fun x y => x - y) (fun x => x ^+ 2) (fun i j => A i j).
Definition xoffd (A : 'M[R]_n) :=
  offd (fun x y => x - y) (fun x y => x * y) (fun i j => A i j).
(* the exact Cholesky factor the recursion computes *)
Definition xchol (A : 'M[R]_n) : 'I_n -> 'I_n -> R :=
  chol 0 (fun x y => x - y) (fun x y => x * y) (fun x => x ^+ 2) Num.sqrt
       (fun x y => x / y) (fun i j => A i j).

Definition posdef (A : 'M[R]_n) := forall v : 'cV[R]_n, v != 0 -> 0 < (v^T *m A *m v) 0 0.

Lemma foldl_subr (X : Type) (f : X -> R) z (s : seq X) :
  foldl (fun acc x => acc - f x) z s = z - \sum_(x <- s) f x.
Proof.
elim: s z => [|x s IH] z /=; first by rewrite big_nil subr0.
by rewrite IH big_cons opprD addrA.
Qed.

Lemma sum_below (j : 'I_n) (f : 'I_n -> R) :
  \sum_(k <- below j) f k = \sum_(k : 'I_n | (k < j)%N) f k.
Proof. by rewrite big_filter big_enum_cond. Qed.

Lemma qform (A : 'M[R]_n) (v : 'cV[R]_n) :
  (v^T *m A *m v) 0 0 = \sum_i \sum_j v i 0 * A i j * v j 0.
Proof.
rewrite mxE.
transitivity (\sum_j \sum_i v i 0 * A i j * v j 0); last exact: exchange_big.
by apply: eq_bigr => j _; rewrite mxE mulr_suml; apply: eq_bigr => i _; rewrite !mxE.
Qed.

Section PD.
Variable A : 'M[R]_n.
Hypothesis Asym : A^T = A.
Let r := xchol A.
Hypothesis pivots : forall j, 0 < xpivot A r j.

Let Rl (i k : 'I_n) := if (k <= i)%N then r i k else 0.

Lemma rdiag_pos (j : 'I_n) : 0 < r j j.
Proof.
by rewrite /r /xchol chol_diag sqrtr_gt0 -/(xchol A) -/r; exact: pivots.
Qed.

Lemma diag_eq (j : 'I_n) : A j j = \sum_(k : 'I_n | (k <= j)%N) r j k * r j k.
Proof.
have h := pivots j.
have e : r j j ^+ 2 = xpivot A r j.
  by rewrite {1}/r /xchol chol_diag -/(xchol A) -/r sqr_sqrtr // ltW.
rewrite (bigD1 j) //= -expr2 e /xpivot /pivot foldl_subr sum_below /=.
rewrite [X in _ + X](eq_bigl (fun k : 'I_n => (k < j)%N)) => [|k]; last by rewrite ltn_neqAle andbC.
have -> : \sum_(k : 'I_n | (k < j)%N) r j k ^+ 2 = \sum_(k : 'I_n | (k < j)%N) r j k * r j k.
  by apply: eq_bigr => k _; rewrite expr2.
by rewrite subrK.
Qed.

Lemma offd_eq (i j : 'I_n) : (j < i)%N -> A i j = \sum_(k : 'I_n | (k <= j)%N) r i k * r j k.
Proof.
move=> ji.
have ij : i != j by rewrite neq_ltn ji orbT.
have rj := rdiag_pos j.
have e : r i j * r j j = xoffd A r i j.
  rewrite {1}/r /xchol chol_offd // -/(xchol A) -/r.
  have -> : Num.sqrt (pivot (fun x y => x - y) (fun x => x ^+ 2) (fun i j => A i j) r j) = r j j.
    by rewrite /r /xchol chol_diag.
  by rewrite divfK // gt_eqF.
rewrite (bigD1 j) //= e /xoffd /offd foldl_subr sum_below.
rewrite [X in _ + X](eq_bigl (fun k : 'I_n => (k < j)%N)) => [|k]; last by rewrite ltn_neqAle andbC.
by rewrite subrK.
Qed.

Lemma factor_eq (i j : 'I_n) : A i j = \sum_k Rl i k * Rl j k.
Proof.
wlog ji : i j / (j <= i)%N.
  move=> W; case: (leqP j i) => [|ij]; first exact: W.
  have -> : A i j = A j i by rewrite -{1}Asym mxE.
  rewrite (W j i (ltnW ij)); apply: eq_bigr => k _; exact: mulrC.
rewrite (_ : A i j = \sum_(k : 'I_n | (k <= j)%N) r i k * r j k); last first.
  by case: (ltngtP j i) ji => // [/offd_eq //|/val_inj -> _]; exact: diag_eq.
rewrite [RHS](bigID (fun k : 'I_n => (k <= j)%N)) /= [X in _ = _ + X]big1 ?addr0.
  by apply: eq_bigr => k kj; rewrite /Rl kj (leq_trans kj ji).
by move=> k /negbTE kj; rewrite /Rl kj mulr0.
Qed.

Lemma qform_factor (v : 'cV[R]_n) :
  (v^T *m A *m v) 0 0 = \sum_k (\sum_i Rl i k * v i 0) ^+ 2.
Proof.
rewrite qform.
transitivity (\sum_i \sum_j \sum_k v i 0 * Rl i k * (Rl j k * v j 0)).
  apply: eq_bigr => i _; apply: eq_bigr => j _; rewrite factor_eq mulr_sumr mulr_suml.
  by apply: eq_bigr => k _; rewrite !mulrA.
transitivity (\sum_i \sum_k \sum_j v i 0 * Rl i k * (Rl j k * v j 0)).
  by apply: eq_bigr => i _; rewrite exchange_big.
rewrite exchange_big; apply: eq_bigr => k _; rewrite expr2 mulr_suml.
apply: eq_bigr => i _; rewrite mulr_sumr; apply: eq_bigr => j _.
by rewrite (mulrC (v i 0)).
Qed.

(* T5, exact form *)
Theorem T5_cholesky_pd : posdef A.
Proof.
move=> v vn0; rewrite qform_factor.
set w := fun k => \sum_i Rl i k * v i 0.
have w0 : 0 <= \sum_k w k ^+ 2 by apply: sumr_ge0 => k _; exact: sqr_ge0.
rewrite lt_def w0 andbT; apply/eqP => /(sq_eq0 (f := w)) wz.
move/eqP: vn0; apply.
have key : forall d (i : 'I_n), (n - i <= d)%N -> v i 0 = 0.
  elim=> [i|d IH i hd]; first by rewrite leqn0 subn_eq0 leqNgt ltn_ord.
  have := wz i; rewrite /w (bigD1 i) //= big1 ?addr0 => [|l li].
    by rewrite /Rl leqnn => /eqP; rewrite mulf_eq0 gt_eqF ?rdiag_pos // => /eqP.
  case: (ltngtP i l) => [il|li'|/val_inj e]; last by rewrite e eqxx in li.
    by rewrite IH ?mulr0 // -ltnS (leq_trans _ hd) // ltn_sub2l.
  by rewrite /Rl leqNgt li' mul0r.
by apply/matrixP => i j; rewrite ord1 mxE (key (n - i)%N i (leqnn _)).
Qed.

End PD.

(* ||M v|| < c ||v|| for v <> 0, from c^2 I - M^T M positive definite *)
Theorem T5_norm_below m (M : 'M[R]_(m, n)) (c : R) :
  0 <= c -> posdef (c ^+ 2 *: 1%:M - M^T *m M) ->
  forall v : 'cV[R]_n, v != 0 -> fnorm (M *m v) < c * fnorm v.
Proof.
move=> c0 pd v vn0.
have := pd v vn0.
have e : v^T *m (c ^+ 2 *: 1%:M - M^T *m M) *m v =
         c ^+ 2 *: (v^T *m v) - (M *m v)^T *m (M *m v).
  by rewrite mulmxBr mulmxBl scalemx1 mul_mx_scalar scalemxAl trmx_mul !mulmxA.
have e2 (X Y : 'M[R]_1) : (c ^+ 2 *: X - Y) 0 0 = c ^+ 2 * X 0 0 - Y 0 0.
  by rewrite !mxE.
rewrite e e2 -!sqr_fnorm_tr subr_gt0 => h.
by rewrite -ltr_sqr ?nnegrE ?mulr_ge0 ?fnorm_ge0 // exprMn.
Qed.

Lemma ip_le (x y : 'cV[R]_n) : (x^T *m y) 0 0 <= fnorm x * fnorm y.
Proof.
apply: le_trans (dot_le (fun p : 'I_n * 'I_1 => x p.1 p.2) (fun p => y p.1 p.2)).
rewrite tr_mul_col /dot -(pair_big xpredT xpredT (fun i j => x i j * y i j)) /=.
rewrite le_eqVlt; apply/orP; left; apply/eqP.
by apply: eq_bigr => i _; rewrite big_ord1.
Qed.

End Exact.

(* the kernel checks the smaller Gram matrix: a bound for M^T gives one for M *)
Theorem T5_norm_below_tr (R : rcfType) m n (M : 'M[R]_(m, n)) (c : R) :
  0 < c -> (forall w : 'cV[R]_m, w != 0 -> fnorm (M^T *m w) < c * fnorm w) ->
  forall v : 'cV[R]_n, v != 0 -> fnorm (M *m v) < c * fnorm v.
Proof.
move=> c0 hT v vn0.
have v0 := fnorm_col_eq0 vn0.
have [w0|wn0] := eqVneq (M *m v) 0.
  by rewrite w0 fnorm0 mulr_gt0.
have w0 := fnorm_col_eq0 wn0.
have h : fnorm (M *m v) ^+ 2 < c * fnorm (M *m v) * fnorm v.
  rewrite sqr_fnorm_tr.
  have -> : ((M *m v)^T *m (M *m v)) 0 0 = ((M^T *m (M *m v))^T *m v) 0 0.
    by rewrite !trmx_mul trmxK !mulmxA.
  apply: le_lt_trans (ip_le _ _) _.
  by rewrite ltr_pmul2r // hT.
by rewrite expr2 -mulrA [_ * fnorm v]mulrC mulrA ltr_pmul2r // in h.
Qed.

(* ------------------------------------------------------------------------ *)
(* Interval form.                                                            *)
Section Interval.
Variables (R : rcfType) (n : nat) (I : Type).
(* x \in X for an exact real x and an interval X *)
Variable mem : R -> I -> Prop.
Variables (izero : I) (isub imul : I -> I -> I) (isqr isqrt : I -> I) (idiv : I -> I -> I).
(* the code's pivot test `pivot.lo() > 0` *)
Variable pos : I -> bool.

(* outward rounding, stated as hypotheses on the operations: the exact
   result of each operation lies in the computed interval *)
Hypothesis sub_encl : forall x y X Y, mem x X -> mem y Y -> mem (x - y) (isub X Y).
Hypothesis mul_encl : forall x y X Y, mem x X -> mem y Y -> mem (x * y) (imul X Y).
Hypothesis sqr_encl : forall x X, mem x X -> mem (x ^+ 2) (isqr X).
Hypothesis sqrt_encl : forall x X, mem x X -> 0 <= x -> mem (Num.sqrt x) (isqrt X).
Hypothesis div_encl : forall x y X Y, mem x X -> mem y Y -> y != 0 -> mem (x / y) (idiv X Y).
Hypothesis pos_sound : forall x X, pos X -> mem x X -> 0 < x.

Variable Ai : 'I_n -> 'I_n -> I.
Let ri := chol izero isub imul isqr isqrt idiv Ai.
Let ipivot := pivot isub isqr Ai ri.
(* the check the code makes *)
Hypothesis pivots_pass : forall j, pos (ipivot j).

Lemma foldl_encl (X : eqType) (f : R -> X -> R) (F : I -> X -> I) z Z (s : seq X) :
  mem z Z -> (forall acc ACC x, x \in s -> mem acc ACC -> mem (f acc x) (F ACC x)) ->
  mem (foldl f z s) (foldl F Z s).
Proof.
elim: s z Z => [//|x s IH] z Z hz H /=.
apply: IH; first by apply: H; rewrite ?mem_head.
by move=> acc ACC y ys; apply: H; rewrite inE ys orbT.
Qed.

Section Inside.
Variable A : 'M[R]_n.
Hypothesis A_in : forall i j : 'I_n, (j <= i)%N -> mem (A i j) (Ai i j).
Let r := xchol A.

Lemma encl_all : forall c (j : 'I_n), (j < c)%N ->
  mem (xpivot A r j) (ipivot j) /\ forall i : 'I_n, (j <= i)%N -> mem (r i j) (ri i j).
Proof.
elim=> [//|c IH] j; rewrite ltnS => jc.
have below_in : forall i k : 'I_n, (j <= i)%N -> (k < j)%N -> mem (r i k) (ri i k).
  move=> i k ji kj; apply: (proj2 (IH k (leq_trans kj jc))).
  exact: leq_trans (ltnW kj) ji.
have hp : mem (xpivot A r j) (ipivot j).
  apply: foldl_encl; first by apply: A_in.
  move=> acc ACC k; rewrite mem_below => kj hacc.
  by apply: sub_encl => //; apply: sqr_encl; apply: below_in.
have p0 : 0 < xpivot A r j := pos_sound (pivots_pass j) hp.
split=> // i ji.
have hs : mem (Num.sqrt (xpivot A r j)) (isqrt (ipivot j)) by apply: sqrt_encl => //; exact: ltW.
case: (eqVneq i j) => [->|ij].
  by rewrite /r /xchol /ri !chol_diag.
rewrite /r /xchol /ri !chol_offd //.
apply: div_encl; last by rewrite gt_eqF // sqrtr_gt0.
  apply: foldl_encl; first by apply: A_in.
  move=> acc ACC k; rewrite mem_below => kj hacc.
  by apply: sub_encl => //; apply: mul_encl; apply: below_in.
exact: hs.
Qed.

(* T5, interval form *)
Theorem T5_interval_pd : A^T = A -> posdef A.
Proof.
move=> Asym; apply: T5_cholesky_pd => // j.
exact: pos_sound (pivots_pass j) (proj1 (encl_all (ltn_ord j))).
Qed.

End Inside.
End Interval.

Section SpectralNormBelow.
Variables (R : rcfType) (n : nat) (I : Type) (mem : R -> I -> Prop).
Variables (izero : I) (isub imul : I -> I -> I) (isqr isqrt : I -> I) (idiv : I -> I -> I).
Variable pos : I -> bool.
Hypothesis sub_encl : forall x y X Y, mem x X -> mem y Y -> mem (x - y) (isub X Y).
Hypothesis mul_encl : forall x y X Y, mem x X -> mem y Y -> mem (x * y) (imul X Y).
Hypothesis sqr_encl : forall x X, mem x X -> mem (x ^+ 2) (isqr X).
Hypothesis sqrt_encl : forall x X, mem x X -> 0 <= x -> mem (Num.sqrt x) (isqrt X).
Hypothesis div_encl : forall x y X Y, mem x X -> mem y Y -> y != 0 -> mem (x / y) (idiv X Y).
Hypothesis pos_sound : forall x X, pos X -> mem x X -> 0 < x.

(* The whole of kernel/norms.rs `spectral_norm_below` for one orientation:
   the interval Gram matrix g_ij = 0 (+) a_0i a_0j (+) ... (+) a_(m-1)i a_(m-1)j,
   the tested matrix c2 (-) g_ii on the diagonal and (-g_ij) below it, and
   the Cholesky test passing on it ==> ||A v|| < c ||v|| for EVERY A inside
   the interval matrix. *)
Variables (iadd : I -> I -> I) (ineg : I -> I).
Hypothesis add_encl : forall x y X Y, mem x X -> mem y Y -> mem (x + y) (iadd X Y).
Hypothesis neg_encl : forall x X, mem x X -> mem (- x) (ineg X).

Section Gram.
Variables (m : nat) (Ain : 'I_m -> 'I_n -> I) (izero' C2 : I).
Hypothesis zero_in : mem 0 izero'.

Definition igram (i j : 'I_n) : I :=
  foldl (fun s k => iadd s (imul (Ain k i) (Ain k j))) izero' (enum 'I_m).
Definition itested (i j : 'I_n) : I :=
  if i == j then isub C2 (igram i j) else ineg (igram i j).

Hypothesis test_passes : forall j,
  pos (pivot isub isqr itested (chol izero isub imul isqr isqrt idiv itested) j).

Theorem T5_spectral_norm_below (A : 'M[R]_(m, n)) (c : R) :
  (forall k l, mem (A k l) (Ain k l)) -> 0 <= c -> mem (c ^+ 2) C2 ->
  forall v : 'cV[R]_n, v != 0 -> fnorm (A *m v) < c * fnorm v.
Proof.
move=> A_in c0 c2_in; apply: T5_norm_below => //.
have gram_in i j : mem ((A^T *m A) i j) (igram i j).
  have -> : (A^T *m A) i j = foldl (fun s k => s + A k i * A k j) 0 (enum 'I_m).
    have e (z : R) (r : seq 'I_m) :
        foldl (fun s k => s + A k i * A k j) z r = z + \sum_(k <- r) A k i * A k j.
      elim: r z => [|x r IH] z /=; first by rewrite big_nil addr0.
      by rewrite IH big_cons addrA.
    rewrite e add0r big_enum /= mxE; apply: eq_bigr => k _; by rewrite mxE.
  apply: (foldl_encl (mem := mem)) => // acc ACC k _ hacc.
  by apply: add_encl => //; apply: mul_encl.
apply: (T5_interval_pd sub_encl mul_encl sqr_encl sqrt_encl div_encl pos_sound test_passes) => //.
- move=> i j _.
  have e (Y : 'M[R]_n) : (c ^+ 2 *: 1%:M - Y) i j = c ^+ 2 * (i == j)%:R - Y i j.
    by rewrite !mxE.
  rewrite e /itested; case: (eqVneq i j) => [->|ij] /=.
    by rewrite mulr1; apply: sub_encl.
  by rewrite mulr0 add0r; apply: neg_encl.
- by rewrite raddfB /= trmx_mul trmxK linearZ /= trmx1.
Qed.

End Gram.
End SpectralNormBelow.
