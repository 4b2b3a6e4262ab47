(* T6 -- Appendix A.2, corrected: for SYMMETRIC L with 0 <= L <= lambda I
   (as quadratic forms) and alpha >= 0,
     ||(gamma I - alpha L) v|| <= max(|gamma|, |gamma - alpha lambda|) ||v||.
   No spectral theorem: a symmetric A with |v^T A v| <= m ||v||^2 has
   ||A v|| <= m ||v|| (polarization + parallelogram law, `sym_opnorm`).

   Rust relying on it: esai-verify spectral.rs `m_norms` (the A.2 closed form
   max(|gamma|, |gamma - alpha lambda|), used only for LaplacianKind::Sym) with
   lambda from `lambda_max_upper`; certify.rs `certify` (proposition1 and
   frobenius conditions when that bound is the tighter one), and the
   SpectralModel::Symmetric of region problems. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp.algebra_tactics Require Import ring.
From ESAI Require Import Norms.

Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.

Import Order.Theory GRing.Theory Num.Theory.
Local Open Scope ring_scope.

Section Bilinear.
Variables (R : rcfType) (n : nat).
Implicit Types (B : 'M[R]_n) (x y z : 'cV[R]_n).

Definition bil B x y := (x^T *m B *m y) 0 0.

Lemma bilDl B x y z : bil B (x + y) z = bil B x z + bil B y z.
Proof. by rewrite /bil raddfD /= !mulmxDl mxE. Qed.

Lemma bilDr B x y z : bil B x (y + z) = bil B x y + bil B x z.
Proof. by rewrite /bil mulmxDr mxE. Qed.

Lemma bilNl B x y : bil B (- x) y = - bil B x y.
Proof. by rewrite /bil raddfN /= !mulNmx mxE. Qed.

Lemma bilNr B x y : bil B x (- y) = - bil B x y.
Proof. by rewrite /bil mulmxN mxE. Qed.

Lemma bilZr B x y c : bil B x (c *: y) = c * bil B x y.
Proof. by rewrite /bil -scalemxAr mxE. Qed.

Lemma bil_sym B x y : B^T = B -> bil B x y = bil B y x.
Proof.
move=> Bs.
have h : (x^T *m B *m y)^T = y^T *m B *m x by rewrite !trmx_mul trmxK Bs mulmxA.
by rewrite /bil -h [RHS]mxE.
Qed.

Lemma bilBm B1 B2 x y : bil (B1 - B2) x y = bil B1 x y - bil B2 x y.
Proof. by rewrite /bil mulmxBr mulmxBl mxE [X in _ + X]mxE. Qed.

Lemma bilZm B c x y : bil (c *: B) x y = c * bil B x y.
Proof. by rewrite /bil -scalemxAr -scalemxAl mxE. Qed.

Lemma sqr_fnorm_bil x : fnorm x ^+ 2 = bil 1%:M x x.
Proof. by rewrite /bil mulmx1 sqr_fnorm_tr. Qed.

Lemma bil_expand B x y : B^T = B ->
  bil B (x + y) (x + y) - bil B (x - y) (x - y) = bil B x y *+ 4.
Proof.
move=> Bs; rewrite !bilDl !bilDr !bilNl !bilNr (bil_sym x y Bs).
rewrite opprK; set a := bil B x x; set b := bil B y x; set d := bil B y y.
by rewrite !mulrSr mulr0n add0r; ring.
Qed.

(* a symmetric A with |v^T A v| <= m ||v||^2 (m >= 0) has ||A v|| <= m ||v|| *)
Theorem sym_opnorm (A : 'M[R]_n) (m : R) :
  A^T = A -> 0 <= m -> (forall x, `|bil A x x| <= m * fnorm x ^+ 2) ->
  forall v : 'cV[R]_n, fnorm (A *m v) <= m * fnorm v.
Proof.
move=> As m0 hq.
have I1 : (1%:M : 'M[R]_n)^T = 1%:M by rewrite trmx1.
(* 4 b(x, y) <= 2 m (||x||^2 + ||y||^2) *)
have key x y : bil A x y *+ 4 <= m * (fnorm x ^+ 2 + fnorm y ^+ 2) *+ 2.
  rewrite -bil_expand //.
  have par : fnorm (x + y) ^+ 2 + fnorm (x - y) ^+ 2 = (fnorm x ^+ 2 + fnorm y ^+ 2) *+ 2.
    rewrite !sqr_fnorm_bil !bilDl !bilDr !bilNl !bilNr (bil_sym x y I1) opprK.
    by rewrite !mulrSr mulr0n add0r; ring.
  rewrite -mulrnAr -par mulrDr.
  apply: ler_add; first by apply: le_trans (ler_norm _) (hq _).
  by apply: le_trans (hq (x - y)); rewrite -normrN ler_norm.
move=> v.
have hAv : bil A (A *m v) v = fnorm (A *m v) ^+ 2.
  by rewrite /bil sqr_fnorm_tr -mulmxA.
have sq : fnorm (A *m v) ^+ 2 <= (m * fnorm v) ^+ 2.
  have [me|mpos] := eqVneq m 0.
    have := key (A *m v) v; rewrite hAv me !mul0r mul0rn => h.
    have h0 : fnorm (A *m v) ^+ 2 <= 0 by rewrite -(@pmulrn_lle0 _ _ 4).
    by rewrite [0 ^+ 2]expr2 mulr0.
  have mp : 0 < m by rewrite lt_def mpos m0.
  have := key (A *m v) (m *: v).
  rewrite bilZr hAv.
  have -> : fnorm (m *: v) = m * fnorm v by rewrite fnormZ ger0_norm.
  set X := fnorm (A *m v) ^+ 2; set Y := (m * fnorm v) ^+ 2 => h.
  have h' : 0 <= (m * (Y - X)) *+ 2.
    have -> : (m * (Y - X)) *+ 2 = m * (X + Y) *+ 2 - (m * X) *+ 4.
      by rewrite !mulrSr !mulr0n !add0r; ring.
    by rewrite subr_ge0.
  by move: h'; rewrite pmulrn_lge0 // pmulr_rge0 // subr_ge0.
by rewrite -ler_sqr ?nnegrE ?mulr_ge0 ?fnorm_ge0.
Qed.

End Bilinear.

Section A2.
Variables (R : rcfType) (n : nat).
Variables (L : 'M[R]_n) (lambda gamma alpha : R).
Hypothesis L_sym : L^T = L.
Hypothesis L_psd : forall x, 0 <= bil L x x.
Hypothesis L_le : forall x, bil L x x <= lambda * fnorm x ^+ 2.
Hypothesis alpha_ge0 : 0 <= alpha.

(* T6: ||gamma I - alpha L||_2 <= max(|gamma|, |gamma - alpha lambda|) *)
Theorem T6_a2 : forall v : 'cV[R]_n,
  fnorm ((gamma *: 1%:M - alpha *: L) *m v) <=
    Num.max `|gamma| `|gamma - alpha * lambda| * fnorm v.
Proof.
set m := Num.max _ _.
apply: sym_opnorm.
- by rewrite raddfB /= !linearZ /= trmx1 L_sym.
- by rewrite le_maxr normr_ge0.
move=> x.
rewrite bilBm !bilZm -sqr_fnorm_bil.
have N0 : 0 <= fnorm x ^+ 2 by exact: sqr_ge0.
rewrite ler_norml; apply/andP; split.
  (* lower side: gamma ||x||^2 - alpha x^T L x >= (gamma - alpha lambda) ||x||^2 *)
  apply: le_trans (_ : (gamma - alpha * lambda) * fnorm x ^+ 2 <= _).
    rewrite -[X in X <= _]mulNr; apply: (ler_wpmul2r N0); rewrite ler_oppl.
    apply: le_trans (_ : `|gamma - alpha * lambda| <= _); last by rewrite le_maxr lexx orbT.
    by rewrite -normrN ler_norm.
  by rewrite mulrBl ler_add2l ler_opp2 -mulrA; apply: (ler_wpmul2l alpha_ge0).
apply: le_trans (_ : gamma * fnorm x ^+ 2 <= _).
  by rewrite ler_subl_addr ler_addl mulr_ge0.
apply: (ler_wpmul2r N0); apply: le_trans (ler_norm _) _.
by rewrite le_maxr lexx.
Qed.

End A2.
