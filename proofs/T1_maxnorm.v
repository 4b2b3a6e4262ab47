(* T1 -- the per-agent (max-norm) bound of Proposition 1, corrected (spec 5.2).

   E_{t+1} = M E_t + G_t, E_t in R^{N x k} (one row per agent), M in R^{N x N},
   row i of G_t = g (row i E_t) (u_t i), g L_E-Lipschitz in its first argument,
   ||g(0, u)|| <= K for every input u, every row sum of |M| at most s (so
   ||M||_inf <= s), rho = s + L_E < 1.  Then every agent's IAE satisfies
     ||E_t[i]||_2 <= rho^t * m0 + K / (1 - rho)      (||E_0[j]|| <= m0 for all j)
   in particular ||E_t[i]||_2 <= K / (1 - rho) when E_0 = 0, and
   ||E_t[i]||_2 <= max(m0, K / (1 - rho)).

   Rust relying on it: esai-verify certify.rs `certify` (the `max_norm`
   condition, rho = ||M||_inf + L_E computed by `condition`), with s from
   spectral.rs `m_norms` / `inf_norm_bound` / kernel norms.rs `inf_norm_upper`
   (and `ISparse::inf_norm_upper`); the runtime monitor's bound B. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

Section MaxNorm.
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
Hypothesis M_rows : forall i, \sum_j `|M i j| <= s.
Hypothesis s_ge0 : 0 <= s.
Hypothesis LE_ge0 : 0 <= LE.
Hypothesis K_ge0 : 0 <= K.

Let rho := s + LE.

Lemma rho_ge0 : 0 <= rho.
Proof. by rewrite addr_ge0. Qed.

(* one step: if every agent is within b then every agent is within rho b + K *)
Lemma maxnorm_step t b :
  0 <= b -> (forall j, vnorm (row j (E t)) <= b) ->
  forall i, vnorm (row i (E t.+1)) <= rho * b + K.
Proof.
move=> b0 Hb i.
rewrite recurrence linearD /= update_rows.
apply: le_trans (vnormD _ _) _.
have H1 : vnorm (row i (M *m E t)) <= s * b.
  apply: le_trans (vnorm_row_mul M (E t) i) _.
  apply: le_trans (_ : \sum_l `|M i l| * b <= _); last by rewrite -mulr_suml ler_wpmul2r.
  by apply: ler_sum => l _; rewrite ler_wpmul2l ?normr_ge0.
have H2 : vnorm (g (row i (E t)) (u t i)) <= LE * b + K.
  apply: le_trans (vnormB_le _ (g 0 (u t i))) _.
  apply: ler_add (g_zero _).
  apply: le_trans (g_lipschitz _ _ _) _.
  by rewrite subr0 ler_wpmul2l.
rewrite /rho mulrDl -addrA.
exact: ler_add.
Qed.

(* invariant: any b >= 0 with rho b + K <= b that bounds E_0 bounds every E_t *)
Lemma maxnorm_invariant b :
  0 <= b -> rho * b + K <= b -> (forall j, vnorm (row j (E 0)) <= b) ->
  forall t i, vnorm (row i (E t)) <= b.
Proof.
move=> b0 hb H0; elim=> [//|t IH] i.
exact: le_trans (maxnorm_step b0 IH i) hb.
Qed.

Hypothesis rho_lt1 : rho < 1.

Let B := K / (1 - rho).

Lemma B_ge0 : 0 <= B.
Proof. by rewrite divr_ge0 // subr_ge0 ltW. Qed.

Lemma B_fixed : rho * B + K = B.
Proof.
have h : 1 - rho != 0 by rewrite subr_eq0 eq_sym lt_eqF.
rewrite /B; field; exact: h.
Qed.

(* T1, general start: ||E_t[i]|| <= rho^t m0 + K/(1-rho) *)
Theorem T1_maxnorm_general m0 :
  0 <= m0 -> (forall j, vnorm (row j (E 0)) <= m0) ->
  forall t i, vnorm (row i (E t)) <= rho ^+ t * m0 + K / (1 - rho).
Proof.
move=> m00 H0; elim=> [|t IH] i.
  by rewrite expr0 mul1r; apply: le_trans (H0 i) _; rewrite ler_addl B_ge0.
have bt0 : 0 <= rho ^+ t * m0 + B by rewrite addr_ge0 ?B_ge0 ?mulr_ge0 ?exprn_ge0 ?rho_ge0.
apply: le_trans (maxnorm_step bt0 IH i) _.
by rewrite -/B mulrDr -addrA B_fixed exprS mulrA.
Qed.

(* T1 as the certificate uses it: E_0 = 0 gives max_i ||E_t[i]|| <= K/(1-rho) *)
Theorem T1_maxnorm : E 0 = 0 -> forall t i, vnorm (row i (E t)) <= K / (1 - rho).
Proof.
move=> E00; apply: maxnorm_invariant; rewrite ?B_ge0 ?B_fixed //.
by move=> j; rewrite E00 linear0 vnorm0 B_ge0.
Qed.

(* the same with the maximum over agents written out *)
Theorem T1_maxnorm_max : E 0 = 0 ->
  forall t, \big[Num.max/0]_i vnorm (row i (E t)) <= K / (1 - rho).
Proof.
move=> E00 t; elim/big_ind: _ => //; first exact: B_ge0.
  by move=> x y hx hy; rewrite le_maxl hx hy.
by move=> i _; exact: T1_maxnorm.
Qed.

(* T1, general start, max form: ||E_t[i]|| <= max(m0, K/(1-rho)) *)
Theorem T1_maxnorm_max_start m0 :
  (forall j, vnorm (row j (E 0)) <= m0) ->
  forall t i, vnorm (row i (E t)) <= Num.max m0 (K / (1 - rho)).
Proof.
move=> H0; apply: maxnorm_invariant.
- by rewrite le_maxr B_ge0 orbT.
- have b0 : 0 <= Num.max m0 B by rewrite le_maxr B_ge0 orbT.
  rewrite -subr_ge0.
  have -> : Num.max m0 B - (rho * Num.max m0 B + K) =
            (1 - rho) * (Num.max m0 B - B) + (B - (rho * B + K)) by rewrite /B; field;
    rewrite subr_eq0 eq_sym lt_eqF.
  rewrite B_fixed subrr addr0 mulr_ge0 // subr_ge0 ?le_maxr ?lexx ?orbT //.
  exact: ltW.
- by move=> j; apply: le_trans (H0 j) _; rewrite le_maxr lexx.
Qed.

End MaxNorm.
