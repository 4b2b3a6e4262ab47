(* T8 -- convexity behind region certification.

   M(gamma, alpha) = gamma I - alpha L is LINEAR in (gamma, alpha), so for any
   weights lambda_c >= 0 over finitely many points (gamma_c, alpha_c):
   - T8_inf_convex: if every row sum of |M(gamma_c, alpha_c)| is <= s_c, every
     row sum of |M(sum lambda_c gamma_c, sum lambda_c alpha_c)| is
     <= sum lambda_c s_c  (||.||_inf, the row-sum form the max_norm condition
     uses);
   - T8_op_convex: the same for operator bounds ||M_c v|| <= s_c ||v||
     (||.||_2, the Frobenius / proposition1 conditions);
   - T8_box_inf, T8_box_op: a bound that holds at the four corners of a box
     [g0, g1] x [a0, a1] holds at every point of the box.

   Rust relying on it: esai-verify certify.rs `corner_norms` / `corners`
   (norm bounds at the box corners are sound bounds on the supremum over the
   box) and `region_problem` (SpectralModel::Corners: the kernel bound at each
   corner of the widened box); proofs/region_convexity.smt2 is its scalar
   instance. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

Section Regions.
Variables (R : rcfType) (n : nat) (L : 'M[R]_n).

Definition Mga (g a : R) : 'M[R]_n := \matrix_(i, j) (g * (i == j)%:R - a * L i j).

Lemma Mga_eq g a : Mga g a = g%:M - a *: L.
Proof. by apply/matrixP => i j; rewrite !mxE mulr_natr. Qed.

Definition rowsum (A : 'M[R]_n) i := \sum_j `|A i j|.

Variable C : finType.
Variables (lam g a : C -> R).
Hypothesis lam_ge0 : forall c, 0 <= lam c.

Let gl := \sum_c lam c * g c.
Let al := \sum_c lam c * a c.

Lemma Mga_lin : Mga gl al = \sum_c lam c *: Mga (g c) (a c).
Proof.
apply/matrixP => i j; rewrite !mxE summxE /gl /al !mulr_suml -sumrB.
by apply: eq_bigr => c _; rewrite !mxE; ring.
Qed.

Theorem T8_inf_convex (s : C -> R) :
  (forall c i, rowsum (Mga (g c) (a c)) i <= s c) ->
  forall i, rowsum (Mga gl al) i <= \sum_c lam c * s c.
Proof.
move=> hs i; rewrite /rowsum Mga_lin.
apply: le_trans (_ : \sum_j \sum_c lam c * `|Mga (g c) (a c) i j| <= _).
  apply: ler_sum => j _; rewrite summxE; apply: le_trans (ler_norm_sum _ _ _) _.
  by apply: ler_sum => c _; rewrite mxE normrM ger0_norm.
rewrite exchange_big; apply: ler_sum => c _; rewrite -mulr_sumr.
exact: ler_wpmul2l (hs c i).
Qed.

Lemma fnorm_sum m k (J : Type) (r : seq J) (F : J -> 'M[R]_(m, k)) :
  fnorm (\sum_(x <- r) F x) <= \sum_(x <- r) fnorm (F x).
Proof.
elim: r => [|x r IH]; first by rewrite !big_nil fnorm0.
by rewrite !big_cons; apply: le_trans (fnormD _ _) _; rewrite ler_add2l.
Qed.

Theorem T8_op_convex (s : C -> R) :
  (forall c (v : 'cV[R]_n), fnorm (Mga (g c) (a c) *m v) <= s c * fnorm v) ->
  forall v : 'cV[R]_n, fnorm (Mga gl al *m v) <= (\sum_c lam c * s c) * fnorm v.
Proof.
move=> hs v; rewrite Mga_lin mulmx_suml.
apply: le_trans (fnorm_sum _ _) _; rewrite mulr_suml; apply: ler_sum => c _.
by rewrite -scalemxAl fnormZ ger0_norm // -mulrA; apply: ler_wpmul2l.
Qed.

End Regions.

Section Box.
Variables (R : rcfType) (n : nat) (L : 'M[R]_n).

Lemma seg_comb (x0 x1 x : R) : x0 <= x -> x <= x1 ->
  exists t, [/\ 0 <= t, t <= 1 & x = t * x0 + (1 - t) * x1].
Proof.
move=> h0 h1; have [e|ne] := eqVneq x0 x1.
  exists 1; split; rewrite ?ler01 ?lexx // subrr mul0r addr0 mul1r.
  by move: h1; rewrite -e => h1; apply/eqP; rewrite eq_le h0 h1.
have d0 : 0 < x1 - x0 by rewrite subr_gt0 lt_neqAle ne (le_trans h0 h1).
exists ((x1 - x) / (x1 - x0)); split.
- by apply: divr_ge0; rewrite subr_ge0 // (le_trans h0 h1).
- by rewrite ler_pdivr_mulr // mul1r ler_add2l ler_opp2.
- by field; rewrite gt_eqF.
Qed.

(* the four corners of [g0, g1] x [a0, a1] *)
Definition corner (g0 g1 a0 a1 : R) (c : bool * bool) :=
  (if c.1 then g1 else g0, if c.2 then a1 else a0).

Lemma box_comb g0 g1 a0 a1 gm am : g0 <= gm <= g1 -> a0 <= am <= a1 ->
  exists lam : bool * bool -> R,
    [/\ forall c, 0 <= lam c, \sum_c lam c = 1,
        gm = \sum_c lam c * (corner g0 g1 a0 a1 c).1
      & am = \sum_c lam c * (corner g0 g1 a0 a1 c).2].
Proof.
case/andP=> hg0 hg1 /andP [ha0 ha1].
have [t [t0 t1 et]] := seg_comb hg0 hg1.
have [u [u0 u1 eu]] := seg_comb ha0 ha1.
pose lam (c : bool * bool) := (if c.1 then 1 - t else t) * (if c.2 then 1 - u else u).
have sum4 (F : bool * bool -> R) : \sum_c F c = F (false, false) + F (false, true) + F (true, false) + F (true, true).
  transitivity (\sum_(x : bool) \sum_(y : bool) F (x, y)).
    by rewrite pair_bigA; apply: eq_bigr => [[x y]] _.
  by rewrite !big_bool /=; ring.
exists lam; split.
- by case=> [[] []]; rewrite /lam /= mulr_ge0 ?subr_ge0.
- by rewrite sum4 /lam /=; ring.
- by rewrite sum4 /lam /= et; ring.
- by rewrite sum4 /lam /= eu; ring.
Qed.

Theorem T8_box_inf g0 g1 a0 a1 (S : R) :
  (forall c i, rowsum (Mga L (corner g0 g1 a0 a1 c).1 (corner g0 g1 a0 a1 c).2) i <= S) ->
  forall gm am, g0 <= gm <= g1 -> a0 <= am <= a1 ->
  forall i, rowsum (Mga L gm am) i <= S.
Proof.
move=> hS gm am hg ha i.
have [lam [l0 l1 eg ea]] := box_comb hg ha.
rewrite eg ea; apply: le_trans (T8_inf_convex l0 (s := fun=> S) _ i) _ => //.
by rewrite -mulr_suml l1 mul1r.
Qed.

Theorem T8_box_op g0 g1 a0 a1 (S : R) :
  (forall c (v : 'cV[R]_n),
     fnorm (Mga L (corner g0 g1 a0 a1 c).1 (corner g0 g1 a0 a1 c).2 *m v) <= S * fnorm v) ->
  forall gm am, g0 <= gm <= g1 -> a0 <= am <= a1 ->
  forall v : 'cV[R]_n, fnorm (Mga L gm am *m v) <= S * fnorm v.
Proof.
move=> hS gm am hg ha v.
have [lam [l0 l1 eg ea]] := box_comb hg ha.
rewrite eg ea; apply: le_trans (T8_op_convex l0 (s := fun=> S) _ v) _ => //.
by rewrite -mulr_suml l1 mul1r.
Qed.

End Box.
