"""The three-player synthesizers (ADSO, AMO): fit / sample / predict_proba / save / load.

They are GAN synthesizers (:class:`~gda_core.synthesizers.base.GANSynthesizer`) and so
oversamplers too (``fit_resample`` adds images drawn from G), and classifiers: Q, trained
inside the game, predicts class probabilities (:meth:`ThreePlayerGAN.predict_proba`).
The ``+q`` variants are the same models under another name, for comparisons that evaluate
Q itself instead of retraining the comparison's CNN on the oversampled data
(``uses_own_classifier``).

Fitting runs two phases with one seed: the supervised autoencoder and its class prior
(:mod:`.autoencoder`), then the game (:mod:`.game`).  A stratified share of the images
(``val_fraction``) is held out of both for Q's validation accuracy.  Like the conditional
GAN the model is shared by every class it is fitted on (by default all).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from gda_core.datasets.split import stratified_split
from gda_core.devices import autocast
from gda_core.errors import ConfigError, GDAError
from gda_core.fastpath import Path, PathChoice, choice_from_record, choose_path
from gda_core.oversampling.params import ParamSpec
from gda_core.seeds import derive_seed
from gda_core.synthesizers.base import (
    DEVICE_PARAM,
    FAST_PARAM,
    GANSynthesizer,
    cpu_state_dict,
    generate_images,
)
from gda_core.synthesizers.losses import LOSS_ALIASES, THREE_PLAYER_LOSSES
from gda_core.synthesizers.threeplayer.autoencoder import (
    ClassPrior,
    class_prior,
    encode_all,
    fit_autoencoder,
)
from gda_core.synthesizers.threeplayer.game import (
    GameConfig,
    Players,
    play,
    predict_logits,
)
from gda_core.synthesizers.threeplayer.nets import SupervisedAutoencoder, build_players
from gda_core.synthesizers.trainer import (
    SamplesCallback,
    StepCallback,
    prepare_nets,
    to_unit,
)

# seed purposes, apart from those of gda_core.synthesizers.base
_SPLIT, _NETS, _AE_BATCHES, _GAME, _SAMPLES = 20, 21, 22, 23, 24
_CHUNK = 512

def three_player_params(*, q_fake_weight: float) -> tuple[ParamSpec, ...]:
    """The parameters of ADSO and AMO (they differ in the default ``q_fake_weight``)."""
    return (
        ParamSpec("epochs", "int", 30, 1, 5000,
                  help="Passes over the training images; each batch updates G, D and Q once."),
        ParamSpec("min_steps", "int", 200, 0, 100_000,
                  help="At least this many steps of the game (small datasets need them)."),
        ParamSpec("batch_size", "int", 64, 2, 1024, help="Images per batch."),
        ParamSpec("gan_type", "choice", THREE_PLAYER_LOSSES[0], choices=THREE_PLAYER_LOSSES,
                  aliases=LOSS_ALIASES,
                  help="non-saturating (log loss) or wasserstein (critic scores); both with "
                       "the R1 penalty on real images."),
        ParamSpec("gp_gamma", "float", 1.0, 0.0, 1000.0,
                  help="Weight gamma of the zero-centred gradient penalty (R1) on real "
                       "images; D's loss adds gamma / 2 times it. 0 turns it off."),
        ParamSpec("latent_dim", "int", 32, 2, 512,
                  help="Length of the autoencoder's latent code, the generator's input."),
        ParamSpec("width", "int", 32, 4, 256,
                  help="Channels of the encoder's first feature map (the decoder mirrors it)."),
        ParamSpec("ae_epochs", "int", 20, 1, 1000,
                  help="Passes of the autoencoder's training (reconstruction + class) before "
                       "the game."),
        ParamSpec("lr_ae", "float", 1e-3, 1e-6, 1.0,
                  help="Adam learning rate of the autoencoder."),
        ParamSpec("lr_d", "float", 2e-4, 1e-6, 1.0, help="Adam learning rate of D."),
        ParamSpec("lr_g", "float", 2e-4, 1e-6, 1.0, help="Adam learning rate of G."),
        ParamSpec("lr_q", "float", 2e-4, 1e-6, 1.0,
                  help="Adam learning rate of the classifier Q."),
        ParamSpec("q_fake_weight", "float", q_fake_weight, 0.0, 10.0,
                  help="Weight of Q's loss on generated images (ADSO: pushed away from their "
                       "class; AMO: learnt as their class) beside its loss on real ones."),
        ParamSpec("dropout", "float", 0.3, 0.0, 0.9,
                  help="Dropout of Q before its latent layer."),
        ParamSpec("val_fraction", "float", 0.1, 0.0, 0.5,
                  help="Share of each class held out (stratified) for Q's validation "
                       "accuracy."),
        FAST_PARAM,
        DEVICE_PARAM,
    )


class ThreePlayerGAN(GANSynthesizer):
    """Generator, discriminator and classifier trained together from an autoencoder prior.

    Subclasses set :attr:`game` (``"adso"`` or ``"amo"``, see :mod:`.game`).

    Attributes set by :meth:`fit` (besides those of :class:`GANSynthesizer`)
    ---------------------------------------------------------------------------
    ae_history_ : list of dict
        Per autoencoder epoch: ``epoch``, ``recon_loss``, ``class_loss``.
    prior_ : ClassPrior
        Latent mean and Cholesky factor of every class of ``classes_`` (in that order).
    n_val_ : int
        Images held out for ``q_val_acc``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).integers(0, 256, (40, 1, 8, 8), dtype=np.uint8)
    >>> y = np.array([0] * 30 + [1] * 10)
    >>> model = ADSO(epochs=2, min_steps=0, width=8, latent_dim=4, ae_epochs=2,
    ...              random_state=0).fit(X, y)
    >>> model.sample(5, 1).shape, model.predict_proba(X[:3]).shape
    ((5, 1, 8, 8), (3, 2))
    """

    conditional: ClassVar[bool] = True
    mode: ClassVar[str] = "conditional"
    game: ClassVar[str] = "adso"
    provides_classifier: ClassVar[bool] = True
    _sample_purpose: ClassVar[int] = _SAMPLES
    params = three_player_params(q_fake_weight=1.0)

    # ---------------------------------------------------------------- fitting
    def fit(self, X: np.ndarray, y: np.ndarray, *, classes: Sequence[int] | None = None,
            callback: StepCallback | None = None, on_samples: SamplesCallback | None = None,
            sample_every: int = 50, diversity_every: int = 10) -> ThreePlayerGAN:
        """Train the autoencoder, then the game, on uint8 images.

        Parameters are those of :meth:`GANSynthesizer.fit`; ``classes`` restricts the data
        to those classes (default all), which Q then tells apart and G can draw.
        ``diversity_every`` is also the period of ``q_val_acc``.

        Raises
        ------
        ConfigError
            Bad parameters or classes.
        GDAError
            Training diverged (``history_`` is kept; the model is left unfitted).
        """
        X, y, values, chosen = self._begin_fit(X, y, classes, sample_every, diversity_every)
        device, seed = self.device_, self.seed_
        self.ae_history_: list[dict[str, Any]] = []
        keep = np.isin(y, chosen)
        images = X[keep]
        labels = np.searchsorted(np.asarray(chosen), y[keep])
        split = np.random.default_rng(derive_seed(seed, _SPLIT))
        train, val = stratified_split(labels, values["val_fraction"], split)
        dev = torch.device(device)
        X_t = to_unit(images).to(dev)
        y_t = torch.as_tensor(labels, dtype=torch.long, device=dev)
        tr = torch.as_tensor(train, device=dev)
        va = torch.as_tensor(val, device=dev)
        b = max(2, min(values["batch_size"], len(train)))
        try:
            with _seeded(derive_seed(seed, _NETS), dev):
                ae = self._new_autoencoder(values, len(chosen))
                prepare_nets([ae], device, values["fast"])
                choice = self._fast_path(ae, values, dev, min(values["batch_size"],
                                                              len(train)))
                self.fast_paths_[None] = choice.record()
                cast, fmt = choice.path.dtype, choice.path.memory_format
                ae.to(memory_format=fmt)
                self.ae_history_ = fit_autoencoder(
                    ae, X_t[tr], y_t[tr], epochs=values["ae_epochs"], batch_size=b,
                    lr=values["lr_ae"],
                    generator=torch.Generator().manual_seed(derive_seed(seed, _AE_BATCHES)),
                    cast=cast, memory_format=fmt)
                prior = class_prior(encode_all(ae, X_t[tr], cast=cast, memory_format=fmt),
                                    y_t[tr], len(chosen))
                G, D, Q = build_players(ae, dropout=values["dropout"])
                prepare_nets([G, D, Q], device, values["fast"])
                for net in (G, D, Q):
                    net.to(memory_format=fmt)
                config = GameConfig(
                    mode=self.game, gan_type=values["gan_type"], epochs=values["epochs"],
                    min_steps=values["min_steps"], batch_size=values["batch_size"],
                    lr_g=values["lr_g"], lr_d=values["lr_d"], lr_q=values["lr_q"],
                    gp_gamma=values["gp_gamma"],
                    q_fake_weight=values["q_fake_weight"], cast=cast, memory_format=fmt,
                    fused=bool(values["fast"]),
                    diversity_every=diversity_every, sample_every=sample_every)
                outcome = play(Players(G, D, Q, prior), X_t[tr], y_t[tr], X_t[va], y_t[va],
                               config, seed=derive_seed(seed, _GAME), n_images=len(labels),
                               history=self.history_, callback=callback,
                               on_samples=on_samples)
        except BaseException:
            self._clear()  # a half-trained network must not be sampled
            raise
        self._nets = {None: (G, D)}
        self._q = Q
        self.prior_ = prior
        self.n_val_ = len(val)
        self.real_diversity_ = {None: outcome.real_diversity}
        self.stopped_early_ = outcome.stopped_early
        self.classes_ = [int(c) for c in chosen]
        self._finish_fit(X, y, values, seed)
        return self

    # ----------------------------------------------------------- sampling
    def _fill(self, out: np.ndarray, labels: np.ndarray, gen: torch.Generator) -> None:
        index = torch.as_tensor(np.searchsorted(np.asarray(self.classes_), labels))
        z = self.prior_.sample(index, gen)                                # (n, nz)
        out[:] = generate_images(self._nets[None][0], z, None, torch.device(self.device_))

    # ----------------------------------------------------------- classifying
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Q's class probabilities.

        Parameters
        ----------
        X : ndarray of uint8, shape (N, C, H, W)
            Images of the fitted shape.

        Returns
        -------
        ndarray of float64, shape (N, len(classes_))
            Column ``j`` is class ``classes_[j]``; rows sum to 1.
        """
        self._check_fitted()
        X = np.asarray(X)
        if X.ndim != 4 or X.dtype != np.uint8 or tuple(X.shape[1:]) != self.image_shape_:
            raise ConfigError(f"images must be a uint8 array of shape (N, "
                              f"{', '.join(map(str, self.image_shape_))}); got {X.dtype} "
                              f"{X.shape}")
        dev = torch.device(self.device_)
        path = choice_from_record(getattr(self, "fast_paths_", {}).get(None)).path
        cast, fmt = path.dtype, path.memory_format
        out = np.empty((len(X), len(self.classes_)), dtype=np.float64)
        self._q.eval()
        with torch.inference_mode():
            for i in range(0, len(X), _CHUNK):
                xb = to_unit(X[i:i + _CHUNK]).to(dev)
                logits = predict_logits(self._q, xb, cast, fmt)
                out[i:i + _CHUNK] = torch.softmax(logits.double(), 1).cpu().numpy()
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Q's predicted class (a value of ``classes_``) per image, shape (N,)."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_, dtype=np.int64)[proba.argmax(1)]

    # -------------------------------------------------------------- persistence
    def _payload(self) -> dict[str, Any]:
        """What :meth:`GANSynthesizer._payload` holds plus Q, the class prior and the
        autoencoder's history (not the autoencoder: G, D and Q replace it)."""
        payload = super()._payload()
        payload["models"][0]["Q"] = cpu_state_dict(self._q)
        payload.update({
            "ae_history": [dict(e) for e in self.ae_history_],
            "n_val": int(self.n_val_),
            "prior": {"means": self.prior_.means.clone(), "chols": self.prior_.chols.clone()},
        })
        return payload

    def _restore(self, payload: dict[str, Any]) -> None:
        values = self._values()
        device = self._restore_meta(payload)
        self.ae_history_ = [dict(e) for e in payload.get("ae_history", [])]
        self.n_val_ = int(payload.get("n_val", 0))
        model = payload["models"][0]
        with _seeded(0, torch.device("cpu")):
            ae = self._new_autoencoder(values, len(self.classes_))
            G, D, Q = build_players(ae, dropout=values["dropout"])
        for net, key in ((G, "G"), (D, "D"), (Q, "Q")):
            net.load_state_dict(model[key])
        prepare_nets([G, D, Q], device, values["fast"])
        for net in (G, D, Q):
            net.eval()
        self._nets = {None: (G, D)}
        self._q = Q
        self.prior_ = ClassPrior(payload["prior"]["means"].float(),
                                 payload["prior"]["chols"].float())
        self._fit_key = self._key(values)
        self._sample_gen = torch.Generator()
        self._sample_gen.set_state(payload["sample_rng"])

    # ---------------------------------------------------------------- helpers
    def fit_cost(self, image_shape: Sequence[int], counts: Sequence[int] | dict[int, int],
                 classes: Sequence[int] | None = None) -> Any:
        """Not predicted: the autoencoder's epochs, the game's steps and its validation
        passes follow no one step's time (a comparison says so rather than guess).

        Raises
        ------
        GDAError
            Always.
        """
        raise GDAError(f"{self.label}'s training time is not predicted before it runs")

    def _fast_path(self, ae: SupervisedAutoencoder, values: dict[str, Any],
                   dev: torch.device, batch: int) -> PathChoice:
        """The path the autoencoder and the game run on (see :mod:`gda_core.fastpath`),
        timed on a copy of the autoencoder: its convolutions are the players' trunks."""
        shape = tuple(self.image_shape_)

        def probe(path: Path):
            net = copy.deepcopy(ae).train().to(memory_format=path.memory_format)
            opt = torch.optim.Adam(net.parameters(), lr=1e-4, fused=True)
            gen = torch.Generator().manual_seed(0)
            x = (torch.rand(max(2, batch), *shape, generator=gen) * 2 - 1).to(dev)
            x = x.contiguous(memory_format=path.memory_format)

            def step() -> None:
                with autocast(dev.type, path.dtype):
                    recon, logits = net(x)
                    loss = recon.float().mean() + logits.float().mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

            return step

        size = sum(p.numel() for p in ae.parameters())
        key = f"threeplayer-ae:{size}:x{'x'.join(map(str, shape))}:b{max(2, batch)}"
        return choose_path(key, probe, device=dev.type, fast=bool(values["fast"]))

    def _new_autoencoder(self, values: dict[str, Any], n_classes: int) -> SupervisedAutoencoder:
        C, H, W = self.image_shape_
        return SupervisedAutoencoder(C, (H, W), n_classes, width=values["width"],
                                     latent_dim=values["latent_dim"])

    def _clear(self) -> None:
        self._nets = None
        self._q = None


@contextlib.contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Fork torch's global generators (CPU, and the current CUDA device) and seed them.

    Weight initialisation and dropout draw from them; the caller's state is restored.
    """
    devices = [torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(int(seed))
        if devices:
            torch.cuda.manual_seed(int(seed))
        yield


class ADSO(ThreePlayerGAN):
    """Adversarial data-space oversampling (Dam et al., 2022), see :mod:`.game`."""

    name = "adso"
    label = "ADSO (3-player)"
    description = ("Three-player GAN (generator, discriminator, classifier) on a balanced "
                   "set, from an autoencoder's class-wise latent prior (Dam et al., 2022); "
                   "one model for all classes.")
    game = "adso"
    # Q's complementary loss on good fakes contradicts its loss on the real images they
    # resemble.  Digits, minority 3 and 8 at ratio 0.1: at weight 1 Q's validation ACSA
    # fell from 0.88 (the autoencoder's classifier) to 0.74 and its test ACSA ended at
    # 0.78 (seed 0); test ACSA at 0.03 / 0.1 / 0.3 was 0.950 / 0.957 / 0.953 (3 seeds).
    params = three_player_params(q_fake_weight=0.1)


class AMO(ThreePlayerGAN):
    """Adversarial minority oversampling (Dam et al., 2022), see :mod:`.game`."""

    name = "amo"
    label = "AMO (3-player)"
    description = ("Three-player GAN whose classifier learns the imbalanced data plus "
                   "generated minority images, from an autoencoder's class-wise latent "
                   "prior (Dam et al., 2022).")
    game = "amo"


class ADSOClassifier(ADSO):
    """ADSO evaluated with its own classifier Q in comparisons."""

    name = "adso+q"
    label = "ADSO, classifier Q"
    description = ("ADSO's classifier Q itself, trained inside the game, is evaluated "
                   "(the comparison's CNN is not trained for this method).")
    uses_own_classifier = True


class AMOClassifier(AMO):
    """AMO evaluated with its own classifier Q in comparisons."""

    name = "amo+q"
    label = "AMO, classifier Q"
    description = ("AMO's classifier Q itself, trained inside the game, is evaluated "
                   "(the comparison's CNN is not trained for this method).")
    uses_own_classifier = True
