(* T9 -- the averaged-activation Lipschitz bound (Combettes-Pesquet), for a
   network with ONE hidden activation:
     f(x) = W2 sigma(W1 x + b1) + b2,   optionally followed by an activation
   where sigma acts entrywise and is monotone with slopes in [0, 1]
   (a <= b ==> 0 <= sigma b - sigma a <= b - a: tanh, ReLU, identity).
   With ||W2 W1 v|| <= p ||v||, ||W1 v|| <= s1 ||v||, ||W2 u|| <= s2 ||u||:
     ||f x - f y|| <= (p / 2 + s2 s1 / 2) ||x - y||       (T9_averaged)
   and the same after a last entrywise 1-Lipschitz activation (T9_averaged_last).
   Proof: sigma(z) - sigma(z') = D (z - z') with D = diag(d), d in [0, 1],
   D = (I + S)/2 with |S_ii| <= 1.

   Rust relying on it: esai-verify lipschitz.rs `block_bounds` (the
   averaged bound t[L]; for L = 2 layers with a nonlinear first activation it
   is exactly (||W2 W1|| + ||W2|| ||W1||)/2, the last activation dropped), via
   `lipschitz_upper_bounds` / `lipschitz_bounds` (L_g, L_E, L_u). Deeper
   networks (the general sum over I/S choices) are NOT covered here. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

Section Averaged.
Variables (R : rcfType) (n0 n1 n2 : nat).
Variable sigma : R -> R.
Hypothesis sigma_slope : forall a b, a <= b -> 0 <= sigma b - sigma a <= b - a.
Variables (W1 : 'M[R]_(n1, n0)) (b1 : 'cV[R]_n1) (W2 : 'M[R]_(n2, n1)) (b2 : 'cV[R]_n2).
Variables (p s1 s2 : R).
Hypothesis W21_op : forall v : 'cV[R]_n0, fnorm (W2 *m W1 *m v) <= p * fnorm v.
Hypothesis W1_op : forall v : 'cV[R]_n0, fnorm (W1 *m v) <= s1 * fnorm v.
Hypothesis W2_op : forall u : 'cV[R]_n1, fnorm (W2 *m u) <= s2 * fnorm u.
Hypothesis s2_ge0 : 0 <= s2.

Definition f (x : 'cV[R]_n0) : 'cV[R]_n2 := W2 *m map_mx sigma (W1 *m x + b1) + b2.

(* the slope of sigma between two points, in [0, 1] *)
Lemma slope a b : exists d, [&& 0 <= d, d <= 1 & sigma a - sigma b == d * (a - b)].
Proof.
have [e|ne] := eqVneq a b.
  by exists 0; rewrite e subrr mul0r ler01 lexx eqxx.
exists ((sigma a - sigma b) / (a - b)).
have ab0 : a - b != 0 by rewrite subr_eq0.
rewrite divfK // eqxx andbT; apply/andP; split.
  case: (leP a b) => [ab|ba].
    have /andP [h _] := sigma_slope ab.
    by rewrite -mulrNN -invrN !opprB divr_ge0 // subr_ge0.
  have /andP [h _] := sigma_slope (ltW ba).
  by rewrite divr_ge0 // subr_ge0 ltW.
case: (leP a b) => [ab|ba].
  have /andP [_ h] := sigma_slope ab.
  have d0 : 0 < b - a by rewrite subr_gt0 lt_neqAle ne ab.
  by rewrite -mulrNN -invrN !opprB ler_pdivr_mulr // mul1r.
have /andP [_ h] := sigma_slope (ltW ba).
by rewrite ler_pdivr_mulr ?subr_gt0 // mul1r.
Qed.

Lemma sign_bound (d : R) : 0 <= d -> d <= 1 -> (2 * d - 1) ^+ 2 <= 1.
Proof.
move=> d0 d1; rewrite -subr_ge0.
have -> : 1 - (2 * d - 1) ^+ 2 = 4 * d * (1 - d) by ring.
by rewrite mulr_ge0 ?mulr_ge0 ?ler0n // subr_ge0.
Qed.

(* sigma(z) - sigma(z') = (z - z')/2 + S/2 with ||S|| <= ||z - z'|| *)
Lemma split_activation (z z' : 'cV[R]_n1) : exists S : 'cV[R]_n1,
  fnorm S <= fnorm (z - z') /\
  map_mx sigma z - map_mx sigma z' = (1 / 2) *: (z - z') + (1 / 2) *: S.
Proof.
pose d i := xchoose (slope (z i 0) (z' i 0)).
have dP i := xchooseP (slope (z i 0) (z' i 0)).
exists (\matrix_(i, j) ((2 * d i - 1) * (z i j - z' i j))); split.
  rewrite -ler_sqr ?nnegrE ?fnorm_ge0 // !sqr_fnorm_col; apply: ler_sum => i _.
  rewrite !mxE exprMn -[X in _ <= X]mul1r; apply: ler_wpmul2r; first exact: sqr_ge0.
  by have /and3P [d0 d1 _] := dP i; exact: sign_bound.
apply/matrixP => i j; rewrite !ord1 !mxE; have /and3P [_ _ /eqP e] := dP i.
have q (dd a : R) : dd * a = 1 / 2 * a + 1 / 2 * ((2 * dd - 1) * a) by field.
by rewrite e /d; apply: q.
Qed.

Theorem T9_averaged x y : fnorm (f x - f y) <= (p / 2 + s2 * s1 / 2) * fnorm (x - y).
Proof.
have [S [hS hd]] := split_activation (W1 *m x + b1) (W1 *m y + b1).
have dz : (W1 *m x + b1) - (W1 *m y + b1) = W1 *m (x - y).
  by rewrite mulmxBr opprD addrACA subrr addr0.
rewrite dz in hS hd.
have -> : f x - f y = (1 / 2) *: (W2 *m W1 *m (x - y)) + (1 / 2) *: (W2 *m S).
  rewrite /f opprD addrACA subrr addr0 -mulmxBr hd mulmxDr -!scalemxAr.
  by rewrite mulmxA.
have h0 : (0 : R) <= 1 / 2 by rewrite divr_ge0 ?ler01 ?ler0n.
apply: le_trans (fnormD _ _) _; rewrite !fnormZ (ger0_norm h0).
have -> : (p / 2 + s2 * s1 / 2) * fnorm (x - y) =
          1 / 2 * (p * fnorm (x - y)) + 1 / 2 * (s2 * (s1 * fnorm (x - y))) by ring.
apply: ler_add; apply: (ler_wpmul2l h0); first exact: W21_op.
apply: le_trans (W2_op S) _; apply: (ler_wpmul2l s2_ge0).
exact: le_trans hS (W1_op _).
Qed.

(* with a last entrywise 1-Lipschitz activation (the code drops it) *)
Theorem T9_averaged_last (tau : R -> R) :
  (forall a b, `|tau a - tau b| <= `|a - b|) ->
  forall x y, fnorm (map_mx tau (f x) - map_mx tau (f y)) <= (p / 2 + s2 * s1 / 2) * fnorm (x - y).
Proof.
move=> htau x y; apply: le_trans (T9_averaged x y).
rewrite -ler_sqr ?nnegrE ?fnorm_ge0 // !sqr_fnorm_col; apply: ler_sum => i _.
rewrite !mxE -[X in X <= _]real_normK ?num_real // -[X in _ <= X]real_normK ?num_real //.
by rewrite ler_sqr ?nnegrE ?normr_ge0.
Qed.

End Averaged.
