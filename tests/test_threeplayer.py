"""Three-player adversarial oversampling (ADSO, AMO): prior, losses, game, facade, Compare."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import synthetic_dataset
from conftest_synth import tiny_xy

from gda_core.datasets import DatasetSplits, ImbalanceSpec
from gda_core.datasets.split import stratified_split
from gda_core.errors import ConfigError, GDAError
from gda_core.experiments import ClassifierConfig, CompareConfig, run_comparison
from gda_core.experiments.result import OWN_CLASSIFIER, ComparisonResult
from gda_core.oversampling import OVERSAMPLERS, make_oversampler
from gda_core.synthesizers import SYNTHESIZERS, GANSynthesizer
from gda_core.synthesizers.threeplayer import ADSO, AMO, ThreePlayerGAN
from gda_core.synthesizers.threeplayer import losses as L
from gda_core.synthesizers.threeplayer.autoencoder import (
    class_prior,
    encode_all,
    fit_autoencoder,
)
from gda_core.synthesizers.threeplayer.game import (
    GameConfig,
    Players,
    _Draws,
    play,
)
from gda_core.synthesizers.threeplayer.nets import SupervisedAutoencoder, build_players
from gda_core.synthesizers.trainer import to_unit

TINY = {"epochs": 2, "min_steps": 0, "batch_size": 16, "latent_dim": 8, "width": 8,
        "ae_epochs": 3, "device": "cpu"}
KEYS = {"step", "epoch", "d_loss", "g_loss", "g_grad_norm", "d_real", "d_fake", "q_loss",
        "seconds"}


@pytest.fixture(scope="module")
def xy():
    return tiny_xy()  # classes 0, 1, 2 with 24, 10, 8 images of 1x8x8, brighter per class


@pytest.fixture(scope="module")
def fitted(xy):
    X, y = xy
    return {name: SYNTHESIZERS[name](random_state=0, **TINY).fit(X, y)
            for name in ("adso", "amo")}


# ----------------------------------------------------------------------- registries
def test_registered_for_training_compare_and_cli():
    assert SYNTHESIZERS["adso"] is ADSO and SYNTHESIZERS["amo"] is AMO
    assert ADSO.label == "ADSO (3-player)" and AMO.label == "AMO (3-player)"
    for name in ("adso", "amo", "adso+q", "amo+q"):
        assert issubclass(OVERSAMPLERS[name], ThreePlayerGAN)
    assert "adso+q" not in SYNTHESIZERS  # the same models; not listed twice for training
    assert OVERSAMPLERS["adso+q"].uses_own_classifier and not ADSO.uses_own_classifier
    # ADSO's Q weighs its loss on fakes less than AMO's (see ADSO.params)
    weight = {c.name: next(p.default for p in c.params if p.name == "q_fake_weight")
              for c in (ADSO, AMO)}
    assert weight == {"adso": 0.1, "amo": 1.0}


def test_cli_accepts_and_lists_the_methods():
    from gda_core.cli.args import config_from_args
    from gda_core.cli.commands import list_everything
    from gda_core.cli.main import build_parser

    args = build_parser().parse_args(
        ["compare", "--methods", "baseline,smote,adso,adso+q", "--param", "adso+q.epochs=3"])
    config = config_from_args(args)
    assert config.methods == ("baseline", "smote", "adso", "adso+q")
    assert config.method_params == {"adso+q": {"epochs": 3}}
    listing = list_everything()
    assert "  adso+q " in listing and "  amo " in listing


# ---------------------------------------------------------------------------- losses
def test_complementary_cross_entropy_by_hand():
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0], [1.0, 2.0]])
    labels = torch.tensor([0, 0, 1])
    # q_y = 0.5, 0.75, e^2 / (e + e^2)
    q = torch.tensor([0.5, 0.75, math.e ** 2 / (math.e + math.e ** 2)])
    expected = -torch.log(1 - q).mean()
    assert torch.allclose(L.complementary_cross_entropy(logits, labels), expected)
    # confident and wrong about the own class -> near 0; stable for huge logits
    far = L.complementary_cross_entropy(torch.tensor([[-50.0, 50.0]]), torch.tensor([0]))
    assert 0 <= float(far) < 1e-6
    big = L.complementary_cross_entropy(torch.tensor([[100.0, 0.0]]), torch.tensor([0]))
    assert math.isclose(float(big), 100.0, rel_tol=1e-5)


def test_gan_losses_by_hand():
    r, f = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 0.0])
    sp = F.softplus
    logistic_d = float(sp(-r).mean() + sp(f).mean())
    assert math.isclose(float(L.d_loss("non-saturating", r, f)), logistic_d, rel_tol=1e-6)
    assert math.isclose(float(L.d_loss("non-saturating", torch.zeros(3), torch.zeros(3))),
                        2 * math.log(2), rel_tol=1e-6)
    # non-saturating G: -log sigmoid(0) = log 2
    assert math.isclose(float(L.g_loss("non-saturating", torch.zeros(4))), math.log(2),
                        rel_tol=1e-6)
    # Wasserstein (f = identity): fake - real + drift * real^2
    w = float(L.d_loss("wasserstein", torch.tensor([1.0, 3.0]), torch.tensor([0.5, -0.5])))
    assert math.isclose(w, 0.0 - 2.0 + L.WGAN_DRIFT * 5.0, rel_tol=1e-6)
    assert float(L.g_loss("wasserstein", torch.tensor([1.0, 2.0]))) == -1.5
    with pytest.raises(ValueError, match="unknown GAN loss"):
        L.g_loss("hinge", f)


def test_gan_type_speaks_the_one_loss_vocabulary():
    # the names of the two-player GANs' losses; settings saved as "vanilla" still read
    from gda_core.synthesizers.losses import GAN_LOSSES, THREE_PLAYER_LOSSES

    assert set(THREE_PLAYER_LOSSES) <= {*GAN_LOSSES, "wasserstein"}
    spec = next(p for p in ADSO.params if p.name == "gan_type")
    assert spec.choices == THREE_PLAYER_LOSSES and spec.default == "non-saturating"
    assert ADSO(gan_type="vanilla")._values()["gan_type"] == "non-saturating"
    with pytest.raises(ConfigError, match="gan_type must be one of"):
        ADSO(gan_type="minimax")._values()


def test_r1_penalty_on_simple_functions():
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0]]).view(2, 1, 1, 2).requires_grad_(True)
    a = torch.tensor([0.5, -2.0], requires_grad=True)
    linear = (x.view(2, 2) * a).sum(1)                     # grad_x = a for every sample
    penalty = L.r1_penalty(linear, x)
    assert math.isclose(float(penalty.detach()), 0.25 + 4.0, rel_tol=1e-6)
    (grad_a,) = torch.autograd.grad(penalty, a)            # d/da ||a||^2 = 2a
    assert torch.allclose(grad_a, 2 * a.detach())
    square = (x.view(2, 2) ** 2).sum(1)                     # grad_x = 2x
    expected = (4 * (x.detach().view(2, 2) ** 2).sum(1)).mean()
    assert torch.allclose(L.r1_penalty(square, x), expected)


# ------------------------------------------------------------------- prior (SLPPL)
def test_class_prior_by_hand():
    z = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [5.0, 5.0]])
    labels = torch.tensor([0, 0, 0, 1])
    prior = class_prior(z, labels, 2, ridge=0.0 + 1e-3)
    assert torch.allclose(prior.means, torch.tensor([[2 / 3, 2 / 3], [5.0, 5.0]]))
    cov0 = torch.cov(z[:3].T)
    scale = float(z.double().var(0).mean())
    got = prior.chols[0] @ prior.chols[0].T
    assert torch.allclose(got, cov0 + 1e-3 * scale * torch.eye(2), atol=1e-5)
    one = prior.chols[1] @ prior.chols[1].T                 # one code: the ridge only
    assert torch.allclose(one, 1e-3 * scale * torch.eye(2), atol=1e-6)
    gen = torch.Generator().manual_seed(0)
    draws = prior.sample(torch.zeros(4000, dtype=torch.long), gen)
    assert torch.allclose(draws.mean(0), prior.means[0], atol=0.1)
    with pytest.raises(ValueError, match="class 2 has no latent code"):
        class_prior(z, labels, 3)


def test_autoencoder_prior_separates_classes_that_differ():
    ds = synthetic_dataset({0: 30, 1: 30, 2: 30}, size=8, seed=1)
    X, y = to_unit(ds.images), torch.as_tensor(ds.labels)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        ae = SupervisedAutoencoder(1, 8, 3, width=8, latent_dim=4)
    history = fit_autoencoder(ae, X, y, epochs=15, batch_size=16, lr=3e-3,
                              generator=torch.Generator().manual_seed(0))
    assert history[-1]["recon_loss"] < history[0]["recon_loss"]
    assert history[-1]["class_loss"] < history[0]["class_loss"]
    prior = class_prior(encode_all(ae, X), y, 3)
    spread = max(float(torch.linalg.matrix_norm(c)) for c in prior.chols)  # sqrt(trace)
    gaps = [float((prior.means[i] - prior.means[j]).norm())
            for i in range(3) for j in range(i + 1, 3)]
    assert min(gaps) > spread, (gaps, spread)


def test_players_start_from_the_autoencoder():
    torch.manual_seed(0)
    ae = SupervisedAutoencoder(3, (6, 6), 4, width=8, latent_dim=5)
    G, D, Q = build_players(ae, dropout=0.5)
    ae.eval(), G.eval(), Q.eval()
    x = torch.rand(3, 3, 6, 6) * 2 - 1
    z = torch.randn(3, 5)
    assert torch.equal(G(z), ae.decoder(z)) and G(z).shape == (3, 3, 6, 6)
    assert torch.equal(Q(x), ae(x)[1]) and Q(x).shape == (3, 4)
    assert D(x).shape == (3,)
    # copies, not shared modules
    assert G.fc.weight.data_ptr() != ae.decoder.fc.weight.data_ptr()


# ----------------------------------------------------------------------------- game
def test_stratified_split():
    labels = np.array([0] * 20 + [1] * 5 + [2])
    train, val = stratified_split(labels, 0.2, np.random.default_rng(0))
    assert np.bincount(labels[val], minlength=3).tolist() == [4, 1, 0]
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(26))
    _, none = stratified_split(labels, 0.0, np.random.default_rng(0))
    assert len(none) == 0


def test_draws_balance_adso_and_target_minorities_in_amo():
    y = torch.tensor([0] * 30 + [1] * 6 + [2] * 3)
    counts = torch.bincount(y)
    adso = _Draws(y, counts, "adso", 90, torch.Generator().manual_seed(0))
    q_idx, fake, d_idx = adso.next()
    assert d_idx is None and torch.equal(fake, y[q_idx])
    assert torch.bincount(y[q_idx], minlength=3).tolist() == [30, 30, 30]  # one balanced pass
    amo = _Draws(y, counts, "amo", 4000, torch.Generator().manual_seed(0))
    q_idx, fake, d_idx = amo.next()
    assert set(fake.tolist()) == {1, 2}                   # minority classes only
    assert torch.equal(y[d_idx], fake)                     # D's reals match the fakes' classes
    share = float((fake == 1).float().mean())              # shortfalls 24 and 27
    assert abs(share - 24 / 51) < 0.03


@pytest.mark.parametrize("mode", ["adso", "amo"])
@pytest.mark.parametrize("gan_type", ["non-saturating", "wasserstein"])
def test_a_few_steps_change_g_d_and_q(mode, gan_type, xy):
    X, y = xy
    Xt, yt = to_unit(X), torch.as_tensor(y)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        ae = SupervisedAutoencoder(1, 8, 3, width=8, latent_dim=4)
        G, D, Q = build_players(ae, dropout=0.2)
        prior = class_prior(encode_all(ae, Xt), yt, 3)
        before = [[p.detach().clone() for p in net.parameters()] for net in (G, D, Q)]
        history: list[dict] = []
        play(Players(G, D, Q, prior), Xt, yt, Xt[:6], yt[:6],
             GameConfig(mode=mode, gan_type=gan_type, epochs=1, min_steps=3, batch_size=8,
                        gp_gamma=10.0),
             seed=0, n_images=len(y), history=history)
    assert len(history) == 6  # ceil(42 / 8) steps
    for net, old in zip((G, D, Q), before, strict=True):
        assert any(not torch.equal(p, o) for p, o in zip(net.parameters(), old, strict=True))
    for e in history:
        assert KEYS - {"seconds"} <= set(e) and all(math.isfinite(e[k]) for k in KEYS)
    assert "q_val_acc" in history[0] and 0 <= history[-1]["q_val_acc"] <= 1


# --------------------------------------------------------------------------- facade
@pytest.mark.parametrize("name", ["adso", "amo"])
def test_history_has_the_diagnostics_of_the_other_gans(name, fitted):
    m = fitted[name]
    h = m.history_
    assert m.classes_ == [0, 1, 2] and len(h) == 2 * 3  # 2 epochs of ceil(42 / 16)
    for e in h:
        assert KEYS <= set(e) and "class" not in e
        assert 0 <= e["d_real"] <= 1 and 0 <= e["d_fake"] <= 1 and e["g_grad_norm"] > 0
    for e in (h[0], h[-1]):
        assert "diversity" in e and 0 <= e["q_val_acc"] <= 1 and 0 <= e["q_val_acsa"] <= 1
    assert m.n_val_ == 4 and len(m.ae_history_) == 3  # round(0.1 * 24, 10, 8) = 2 + 1 + 1


@pytest.mark.parametrize("name", ["adso", "amo"])
def test_q_predicts_probabilities(name, fitted, xy):
    X, _ = xy
    m = fitted[name]
    proba = m.predict_proba(X)
    assert proba.shape == (42, 3) and np.allclose(proba.sum(1), 1)
    assert set(m.predict(X).tolist()) <= {0, 1, 2}
    with pytest.raises(ConfigError, match="shape"):
        m.predict_proba(X[:, :, :4])
    with pytest.raises(GDAError, match="not trained yet"):
        ADSO().predict_proba(X)


def test_same_seed_same_samples_and_predictions(xy):
    X, y = xy
    torch_state = torch.get_rng_state()
    a = ADSO(random_state=3, **TINY).fit(X, y)
    b = ADSO(random_state=3, **TINY).fit(X, y)
    c = ADSO(random_state=4, **TINY).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)  # dropout used a forked stream
    assert np.array_equal(a.sample(10, 2), b.sample(10, 2))
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history_ == [{**e, "seconds": a.history_[i]["seconds"]}
                          for i, e in enumerate(b.history_)]
    assert not np.array_equal(a.sample(10, 2), c.sample(10, 2))


def test_fit_on_some_classes(xy):
    X, y = xy
    m = AMO(random_state=0, **TINY).fit(X, y, classes=[1, 2])
    assert m.classes_ == [1, 2] and m.predict_proba(X).shape == (42, 2)
    assert set(m.predict(X).tolist()) <= {1, 2}
    with pytest.raises(GDAError, match="not trained on class 0"):
        m.sample(2, 0)


@pytest.mark.parametrize("name", ["adso", "amo", "adso+q"])
def test_oversampler_contract(name):
    X, y = tiny_xy(size=6, channels=3, counts=(30, 9, 5))
    sampler = make_oversampler(name, random_state=0, **TINY)
    X_res, y_res = sampler.fit_resample(X, y)
    assert X_res.dtype == np.uint8 and X_res.shape[1:] == (3, 6, 6)
    assert np.bincount(y_res).tolist() == [30, 30, 30]
    assert np.array_equal(X_res[:len(y)], X) and np.array_equal(y_res[:len(y)], y)
    assert sampler.n_generated_ == {0: 0, 1: 21, 2: 25}
    again = make_oversampler(name, random_state=0, **TINY).fit_resample(X, y)
    assert np.array_equal(again[0], X_res)


def test_save_load_round_trip(fitted, xy, tmp_path):
    X, _ = xy
    m = fitted["amo"]
    m.sample(3, 1)  # advance the sampling stream: the file keeps its state
    path = tmp_path / "amo.pt"
    m.save(path)
    payload = torch.load(path, weights_only=True)
    assert payload["name"] == "amo" and payload["classes"] == [0, 1, 2]
    loaded = GANSynthesizer.load(path)
    assert type(loaded) is AMO and loaded.get_params() == m.get_params()
    assert loaded.history_ == m.history_ and loaded.ae_history_ == m.ae_history_
    assert np.array_equal(loaded.predict_proba(X), m.predict_proba(X))
    expected = m.sample(9, 2)
    assert np.array_equal(loaded.sample(9, 2), expected)
    buf = io.BytesIO()
    m.save(buf)
    buf.seek(0)
    with pytest.raises(GDAError, match="not a ADSO"):
        ADSO.load(buf)


def test_divergence_is_reported(xy, monkeypatch):
    X, y = xy
    monkeypatch.setattr(L, "g_loss", lambda kind, out: out.float().mean() * math.nan)
    m = ADSO(random_state=0, **TINY)
    with pytest.raises(GDAError, match="generator loss became nan at step 1") as err:
        m.fit(X, y)
    assert "lower the learning rates" in str(err.value)
    assert len(m.history_) == 1  # kept for the diagnostics
    with pytest.raises(GDAError, match="not trained yet"):
        m.sample(2, 1)


# -------------------------------------------------------------------------- compare
def _tiny_splits() -> DatasetSplits:
    return DatasetSplits(train=synthetic_dataset({0: 60, 1: 60, 2: 60}, size=8),
                         test=synthetic_dataset({0: 10, 1: 10, 2: 10}, size=8, seed=5))


def test_compare_evaluates_q_itself(tmp_path):
    config = CompareConfig(
        imbalance=ImbalanceSpec(ratio=0.2, minority_classes=(2,), test_per_class=10,
                                name="ratio"),
        methods=("baseline", "adso", "adso+q", "amo+q"),
        method_params={m: {**TINY, "ae_epochs": 15, "lr_ae": 3e-3}
                       for m in ("adso", "adso+q", "amo+q")},
        classifier=ClassifierConfig(epochs=1, width=4, fc_units=8),
    )
    result = run_comparison(config, splits=_tiny_splits())
    assert result.errors() == {}
    runs = {r.method: r for r in result.runs}
    assert runs["adso+q"].classifier == OWN_CLASSIFIER and runs["adso"].classifier == ""
    assert "train" not in runs["adso+q"].seconds and "train" in runs["adso"].seconds
    assert runs["adso+q"].n_train == runs["baseline"].n_train
    assert runs["adso+q"].n_generated[2] > 0 and 2 in result.synthetic_samples["adso+q"]
    table = result.metrics_table()
    assert {"adso+q", "amo+q"} <= set(table.index)
    assert table.loc["adso+q", "acsa"] > 0.5  # the classes differ in brightness
    assert np.asarray(runs["amo+q"].confusion_matrix).sum() == 30
    again = ComparisonResult.from_json(result.to_json())
    assert again.runs_of("adso+q")[0].classifier == OWN_CLASSIFIER


def test_ratio_sweep_needs_the_resample_variant():
    from gda_core.experiments.compare import run_method, split_for_seed

    config = CompareConfig(methods=("adso+q",), method_params={"adso+q": dict(TINY)},
                           imbalance=ImbalanceSpec(ratio=0.2, minority_classes=(2,),
                                                   test_per_class=10, name="ratio"))
    split = split_for_seed(config, _tiny_splits(), 0)
    run = run_method(config, split, "adso+q", 0, lambda f, m: None,
                     sampling_strategy={2: 20})
    assert run.error and "use adso instead" in run.error


def test_train_job_logs_q_accuracy(tmp_path):
    from gda_core.experiments.train import JOB, RUN_KIND, TrainJobConfig
    from gda_core.runs import RunStore, start_worker, wait_for_run

    store = RunStore(tmp_path)
    cfg = TrainJobConfig(synthesizer="adso", classes=(3,), sample_every=5,
                      params={**TINY, "epochs": 1, "min_steps": 6})
    run_id = store.create_run(RUN_KIND, cfg.to_dict())
    start_worker(store.root, run_id, JOB)
    run = wait_for_run(store, run_id, timeout=120)
    assert run.status == "finished", run.error
    events = store.events(run_id)
    assert {"d_loss", "g_loss", "g_grad_norm", "d_real", "d_fake", "q_loss"} <= set(events[0])
    assert "q_val_acc" in events[0] and "q_val_acc" in events[-1]
    assert run.summary["trained_classes"] == list(range(10))  # Q learns every class
    model = ADSO.load(store.latest_artifact(run_id, "checkpoint"))
    assert model.sample(2, 3).shape == (2, 1, 8, 8)


def test_figures_read_in_groups_give_the_same_game_history(xy):
    X, y = xy
    Xt, yt = to_unit(X), torch.as_tensor(y)
    runs = []
    for read_every in (1, 4):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            ae = SupervisedAutoencoder(1, 8, 3, width=8, latent_dim=4)
            G, D, Q = build_players(ae, dropout=0.2)
            prior = class_prior(encode_all(ae, Xt), yt, 3)
            history: list[dict] = []
            called: list[int] = []
            play(Players(G, D, Q, prior), Xt, yt, Xt[:6], yt[:6],
                 GameConfig(epochs=1, min_steps=13, batch_size=8, diversity_every=5,
                            read_every=read_every),
                 seed=0, n_images=len(y), history=history,
                 callback=lambda e, called=called: called.append(e["step"]))
        runs.append(([{k: v for k, v in e.items() if k != "seconds"} for e in history],
                     called))
    assert runs[0] == runs[1]
    assert runs[1][1] == list(range(1, 14)) and "q_val_acc" in runs[1][0][4]
