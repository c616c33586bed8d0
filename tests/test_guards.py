"""One bad-input test per user-facing guard that had none: each row triggers one guard and
matches that guard's own message, so removing the guard fails the row.

Guards already pinned by their own message elsewhere (test_bad_input, test_cli,
test_imbalance, test_oversampling, test_synth_contract, test_datasets_*, test_drso_* ...)
are not repeated, except that the ParamSpec table covers each of its branches once.
Every case fails before any training or long loading: well under a second each.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import synthetic_dataset
from conftest_data import write_fake_mnist, write_idx
from conftest_synth import fast_params, tiny_xy

from gda_core.cli import main
from gda_core.datasets.base import DatasetSplits, ImageDataset
from gda_core.datasets.imbalance import ImbalanceSpec, make_imbalanced
from gda_core.datasets.torchvision_sources import load_torchvision_splits
from gda_core.devices import resolve_device
from gda_core.errors import ConfigError, DatasetError, GDAError, OversamplingError
from gda_core.experiments import ClassifierConfig, CompareConfig
from gda_core.experiments.train import TrainJobConfig, train_job
from gda_core.optimization import DRSOCase
from gda_core.optimization.algorithms.epsilon import polish
from gda_core.optimization.algorithms.npga import NPGA
from gda_core.optimization.algorithms.registry import solve
from gda_core.optimization.cases import WELDING, get_case
from gda_core.optimization.data import fit_experiment
from gda_core.optimization.indicators import Normaliser
from gda_core.optimization.objectives import f1_from_mean
from gda_core.optimization.picking import asf, by_pseudo_weight, min_mse
from gda_core.optimization.study import StudyConfig
from gda_core.optimization.surfaces import QuadraticSurface, fit_quadratic
from gda_core.oversampling import OVERSAMPLERS
from gda_core.oversampling.base import target_counts
from gda_core.oversampling.params import parse_params
from gda_core.oversampling.smote_family import BorderlineSMOTEOversampler, SMOTEOversampler
from gda_core.synthesizers import SYNTHESIZERS, GANSynthesizer
from gda_core.synthesizers.base import FILE_FORMAT, FILE_VERSION
from gda_core.synthesizers.diffaugment import resolve_policy


def _cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text
    return code, text


# ------------------------------------------------------------- parameter specs (params.py)
@pytest.mark.parametrize(
    ("method", "given", "match"),
    [
        ("smote", {"k_neighbors": "three"}, r"^k_neighbors must be an int; got 'three'$"),
        ("dcgan", {"lr_d": "fast"}, r"^lr_d must be a float; got 'fast'$"),
        ("borderline-smote", {"kind": "borderline-3"},
         r"^kind must be one of \['borderline-1', 'borderline-2'\]; got 'borderline-3'$"),
        ("dcgan", {"lr_g": "nan"}, r"^lr_g must be a number; got NaN$"),
        ("augment", {"rotation": -1}, r"^rotation must be at least 0; got -1\.0$"),
        ("adasyn", {"n_neighbors": 51}, r"^n_neighbors must be at most 50; got 51$"),
        ("dcgan", {"lr": "1e-3"}, r"^unknown parameter 'lr'; valid parameters: epochs, "),
        ("smote", {"k_neighbors": 3.7}, r"^k_neighbors must be an int; got 3\.7$"),
        ("augment", {"hflip": "2"}, r"^hflip must be true or false; got '2'$"),
    ],
    ids=["not-int", "not-float", "bad-choice", "nan", "below-low", "above-high", "unknown",
         "fractional-int", "not-bool"],
)
def test_param_spec_guards(method, given, match):
    with pytest.raises(ConfigError, match=match):
        parse_params(OVERSAMPLERS[method].params, given)


# ------------------------------------------------------- GAN settings, checked by fit()
@pytest.mark.parametrize(
    ("name", "override", "match"),
    [
        ("dcgan", {"latent_dim": 1}, r"latent_dim must be at least 2; got 1"),
        ("dcgan", {"batch_size": 1}, r"batch_size must be at least 2; got 1"),
        ("dcgan", {"width": 2}, r"width must be at least 4; got 2"),
        ("gan", {"hidden": 4096}, r"hidden must be at most 2048; got 4096"),
        ("dcgan", {"loss": "hinge"}, r"loss must be one of \[.*'wgan-gp'\]; got 'hinge'"),
        ("dcgan", {"device": "gpu"},
         r"device must be one of \['auto', 'cpu', 'cuda'\]; got 'gpu'"),
        ("dcgan", {"augment": "everything"}, r"augment must be one of \['auto', .*"
                                             r"got 'everything'"),
        ("dcgan", {"d_steps": 0}, r"d_steps must be at least 1; got 0"),
        ("madgan", {"n_generators": 1}, r"n_generators must be at least 2; got 1"),
        ("adso", {"gp_gamma": -1.0}, r"gp_gamma must be at least 0\.0; got -1\.0"),
        ("amo", {"val_fraction": 0.9}, r"val_fraction must be at most 0\.5; got 0\.9"),
    ],
    ids=["latent-dim", "batch-size", "width", "hidden", "loss", "device", "augment",
         "d-steps", "n-generators", "gp-gamma", "val-fraction"],
)
def test_gan_settings_are_refused_before_training(name, override, match):
    X, y = tiny_xy()
    synth = SYNTHESIZERS[name](random_state=0, **fast_params(name, **override))
    with pytest.raises(ConfigError, match=match):
        synth.fit(X, y)
    assert getattr(synth, "history_", None) is None  # nothing was trained


# ------------------------------------------------- synthesizer fit / sample / load guards
def _fit_case(case: str):
    X, y = tiny_xy()
    synth = SYNTHESIZERS["dcgan"](random_state=0, **fast_params("dcgan"))
    return {
        "classes-empty": lambda: synth.fit(X, y, classes=[]),
        "period": lambda: synth.fit(X, y, sample_every=0),
        "label-count": lambda: synth.fit(X, y[:-1]),
        "no-images": lambda: synth.fit(X[:0], y[:0]),
        "float-labels": lambda: synth.fit(X, y.astype(float)),
        "random-state": lambda: SYNTHESIZERS["dcgan"](
            random_state=-1, **fast_params("dcgan")).fit(X, y),
    }[case]


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("classes-empty", r"^classes is empty$"),
        ("period", r"^sample_every must be a positive integer; got 0$"),
        ("label-count", r"^42 images but 41 labels$"),
        ("no-images", r"^no training images$"),
        ("float-labels", r"^labels must be integers$"),
        ("random-state", r"^random_state must be a non-negative integer or None; got -1$"),
    ],
    ids=["classes-empty", "period", "label-count", "no-images", "float-labels",
         "random-state"],
)
def test_synthesizer_fit_guards(case, match):
    with pytest.raises(ConfigError, match=match):
        _fit_case(case)()


def test_sample_count_must_be_non_negative():
    synth = SYNTHESIZERS["dcgan"](**fast_params("dcgan"))
    synth._nets, synth.classes_ = {}, [0]  # looks fitted; the guard fires before drawing
    with pytest.raises(ConfigError, match=r"^n must be a non-negative integer; got -1$"):
        synth.sample(-1)


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"format": FILE_FORMAT, "version": FILE_VERSION + 98},
         rf"^unsupported synthesizer file version {FILE_VERSION + 98}$"),
        ({"format": FILE_FORMAT, "version": FILE_VERSION, "name": "vae"},
         r"^unknown synthesizer 'vae' in the file$"),
    ],
    ids=["version", "unknown-name"],
)
def test_synthesizer_file_guards(tmp_path, payload, match):
    path = tmp_path / "model.pt"
    torch.save(payload, path)
    with pytest.raises(GDAError, match=match):
        GANSynthesizer.load(path)


def test_unknown_augmentation_policy():
    with pytest.raises(ValueError, match=r"^unknown augmentation policy 'everything'; "):
        resolve_policy("everything", 10, 100)


def test_unknown_device_string():
    with pytest.raises(ConfigError, match=r"^device must be 'auto', 'cpu' or 'cuda'; "
                                          r"got 'gpu'$"):
        resolve_device("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="the guard is for machines without CUDA")
def test_cuda_asked_for_without_a_gpu():
    with pytest.raises(ConfigError, match=r"^device 'cuda' was asked for but no CUDA GPU"):
        resolve_device("cuda")


# ------------------------------------------------------------------------ oversamplers
def test_unexpected_oversampler_parameter():
    with pytest.raises(TypeError, match=r"SMOTEOversampler got unexpected parameter\(s\) "
                                        r"\['k'\]"):
        SMOTEOversampler(k=3)


def test_unknown_sampling_strategy():
    with pytest.raises(ConfigError, match=r"^sampling_strategy must be 'auto', 'minority' or "
                                          r"a dict; got 'most'$"):
        target_counts(np.array([0, 0, 0, 1]), "most")


def test_borderline_m_neighbors_above_the_training_set():
    ds = synthetic_dataset({0: 5, 1: 3}, size=4)
    sampler = BorderlineSMOTEOversampler(k_neighbors=2, m_neighbors=8, random_state=0)
    with pytest.raises(OversamplingError, match=r"Borderline-SMOTE needs more than "
                                                r"m_neighbors=8 training images in all; "
                                                r"there are 8; lower m_neighbors"):
        sampler.fit_resample(ds.images, ds.labels)


# ------------------------------------------------------------------ imbalance specs
def _pool(counts: dict[int, int]) -> DatasetSplits:
    return DatasetSplits(synthetic_dataset(counts, size=2))


def _test_split_without_class_1() -> DatasetSplits:
    test = ImageDataset(np.zeros((3, 1, 2, 2), np.uint8), np.zeros(3, np.int64), ("c0", "c1"))
    return DatasetSplits(synthetic_dataset({0: 20, 1: 20}, size=2), test)


@pytest.mark.parametrize(
    ("splits", "spec", "error", "match"),
    [
        (_pool({0: 10, 1: 30}), ImbalanceSpec(counts={0: 5, 1: 5}, test_per_class=10),
         DatasetError, r"class 'c0' has 10 images, not enough to hold out 10 for testing"),
        (_pool({0: 30, 1: 30}), ImbalanceSpec(counts={}, test_per_class=5),
         ConfigError, r"^give a training count for at least two classes$"),
        (_pool({0: 30, 1: 30}), ImbalanceSpec(counts={0: 5}, test_per_class=5),
         ConfigError, r"^an imbalanced classification task needs at least two classes$"),
        (_pool({0: 30, 1: 30}), ImbalanceSpec(counts={0: 5, 1: 5}, test_per_class=0),
         ConfigError, r"^test images per class must be at least 1$"),
        (_test_split_without_class_1(), ImbalanceSpec(counts={0: 5, 1: 5}, test_per_class=2),
         DatasetError, r"^the test split has no images of class 'c1'$"),
        (_pool({0: 30, 1: 30}), ImbalanceSpec(counts={0: 10, 1: 0}, test_per_class=5),
         ConfigError, r"^class 'c1': a training count must be at least 1$"),
        (_pool({0: 30, 1: 30}), ImbalanceSpec(ratio=0.5, test_per_class=5),
         ConfigError, r"^choose at least one minority class$"),
        (_pool({0: 30, 1: 30, 2: 30}),
         ImbalanceSpec(ratio=0.5, classes=(0, 1), minority_classes=(2,), test_per_class=5),
         ConfigError, r"^minority class 2 is not among the kept classes$"),
        (_pool({0: 30, 1: 30}),
         ImbalanceSpec(ratio=0.5, minority_classes=(0, 1), test_per_class=5),
         ConfigError, r"^at least one class must stay a majority class$"),
        (_pool({0: 30, 1: 30}),
         ImbalanceSpec(ratio=0.5, minority_classes=(1,), majority_count=-5, test_per_class=5),
         ConfigError, r"^the majority count must be at least 1; got -5$"),
    ],
    ids=["hold-out", "no-counts", "one-class", "test-per-class", "test-split-class",
         "zero-count", "no-minority", "minority-not-kept", "no-majority", "majority-count"],
)
def test_imbalance_guards(splits, spec, error, match):
    with pytest.raises(error, match=match):
        make_imbalanced(splits, spec, random_state=0)


# ---------------------------------------------------------------- datasets and loaders
@pytest.mark.parametrize(
    ("images", "labels", "match"),
    [
        (np.zeros((2, 4, 4), np.uint8), [0, 1], r"^images must have shape \(N, C, H, W\); "),
        (np.zeros((2, 1, 4, 4), np.float32), [0, 1], r"^images must be uint8; got float32$"),
        (np.zeros((2, 2, 4, 4), np.uint8), [0, 1], r"^images must have 1 or 3 channels; got 2$"),
        (np.zeros((2, 1, 4, 4), np.uint8), [0, 1, 1], r"^2 images but 3 labels$"),
        (np.zeros((2, 1, 4, 4), np.uint8), [0, 2], r"^labels must index into class_names$"),
    ],
    ids=["ndim", "dtype", "channels", "label-count", "label-range"],
)
def test_image_dataset_guards(images, labels, match):
    with pytest.raises(DatasetError, match=match):
        ImageDataset(images, np.asarray(labels), ("a", "b"))


def test_unknown_torchvision_dataset(tmp_path):
    with pytest.raises(DatasetError, match=r"^unknown torchvision dataset 'svhn'; valid: "):
        load_torchvision_splits("svhn", tmp_path)


def test_idx_labels_beyond_the_classes(tmp_path):
    write_fake_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.full(30, 12))
    with pytest.raises(DatasetError, match=r"MNIST labels in .* go up to 12; expected 0\.\.9$"):
        load_torchvision_splits("mnist", tmp_path)


# --------------------------------------------------------- comparison and train configs
def test_compare_config_refuses_a_zero_learning_rate():
    cfg = CompareConfig(classifier=ClassifierConfig(lr=0.0))
    with pytest.raises(ConfigError, match=r"^epochs and batch size must be at least 1 and the "
                                          r"learning rate positive$"):
        cfg.validate()


def test_train_config_sample_every():
    with pytest.raises(ConfigError, match=r"^sample_every must be at least 1$"):
        TrainJobConfig(sample_every=0).validate()


def test_train_job_refuses_classes_outside_the_data():
    ctx = SimpleNamespace(config=TrainJobConfig(classes=(99,)).to_dict(),
                          progress=lambda *args, **kwargs: None)
    with pytest.raises(ConfigError, match=r"^choose classes among 0\.\.9$"):
        train_job(ctx)


# ---------------------------------------------------------------- command-line guards
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "--seeds", "a"], "expected integers like 0,1,2 or 0-4; got 'a'"),
        (["compare", "--methods", "smote", "--param", "smote"],
         "--param looks like smote.k_neighbors=3; got 'smote'"),
        (["compare", "--param", "vae.k=1"], "--param 'vae.k=1': unknown method 'vae'"),
        (["compare", "--methods", "baseline,smote", "--param", "adasyn.n_neighbors=3"],
         "--param 'adasyn.n_neighbors=3': adasyn is not among --methods"),
        (["compare", "--methods", "dcgan", "--param", "dcgan.loss=hinge"],
         "loss must be one of"),
        (["compare", "--methods", "baseline", "--ratios", "0,1", "--sweep-method", "vae"],
         "unknown sweep method 'vae'; choose from"),
        (["train", "--param", "latent_dim"], "--param looks like name=value; got 'latent_dim'"),
        (["train", "--param", "latent_dim=1"], "latent_dim must be at least 2; got 1"),
        (["train", "--synthesizer", "vae"], "unknown synthesizer 'vae'; choose from"),
        (["train", "--class", "99"],
         "class 99 does not exist; the imbalanced data has classes 0..9"),
        (["drso", "--case", "welding", "--pop", "2"], "population size must be at least 4, got 2"),
        (["drso", "--case", "welding", "--gens", "0"], "generations must be at least 1, got 0"),
        (["drso", "--case", "welding", "--bounds=nan:1,-1:1"], "bounds must be finite numbers"),
        (["drso-study", "--case", "welding", "--rates", ","],
         "give at least one rate pair, e.g. 0.5:0.5"),
        (["drso-study", "--case", "welding", "--repeats", "0"], "repeats must be at least 1"),
        (["drso-study", "--case", "welding", "--algorithms", ","],
         "choose at least one algorithm"),
        # inputs that once crashed or were silently changed (found by this audit)
        (["compare", "--seeds", "-1", "--methods", "baseline"],
         "seeds must be whole numbers >= 0; got -1"),
        (["drso", "--case", "welding", "--seed", "-1"], "the seed must be at least 0; got -1"),
        (["drso-study", "--case", "welding", "--seed", "-1"],
         "the seed must be at least 0; got -1"),
        (["drso-study", "--case", "welding", "--pops", ",", "--algorithms", "nsga2"],
         "choose at least one population and one rate pair"),
        (["compare", "--ratio", "0.1", "--minority", "3", "--majority-count", "0",
          "--methods", "baseline"], "the majority count must be at least 1; got 0"),
        (["compare", "--methods", "augment", "--param", "augment.hflip=ture"],
         "hflip must be true or false; got 'ture'"),
    ],
    ids=["seeds", "param-form", "param-method", "param-not-in-methods", "gan-loss",
         "sweep-method", "train-param-form", "train-latent-dim", "train-synthesizer",
         "train-class", "drso-pop", "drso-gens", "drso-nan-bounds", "study-no-rates",
         "study-repeats", "study-no-algorithms", "negative-seed", "drso-negative-seed",
         "study-negative-seed", "study-no-pops", "majority-count-zero", "bool-typo"],
)
def test_cli_guards_exit_2_with_their_message(args, message, tmp_path, capsys):
    if args[0] == "train":
        args = [*args, "--runs-dir", str(tmp_path), "--quiet"]
    code, text = _cli(args, capsys)
    assert code == 2
    assert f"error: {message}" in text


def test_cli_csv_case_needs_a_target(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    path.write_text("x1,y1,y2\n-1,1,2\n0,2,3\n1,3,4\n")
    code, text = _cli(["drso", "--case", str(path)], capsys)
    assert code == 2
    assert ("error: a CSV case with a nominal-the-best mean needs --target (or --objective "
            "smaller / larger)") in text


# ------------------------------------------------------------------ DRSO library guards
def _case(**changes):
    kw = {"lower": (-1,), "upper": (1,), "target": 1.0, **changes}
    return DRSOCase.from_coefficients("c", kw.pop("mean", [1, 2, 3]), kw.pop("sd", [1, 0, 0]),
                                      **kw)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: _case(sd=[1, 0, 0, 0, 0, 0]),
         r"^the mean model has 1 variables but the sd model has 2$"),
        (lambda: _case(lower=(float("-inf"),)), r"^bounds must be finite numbers$"),
        (lambda: _case(objective="biggest"),
         r"^objective must be one of nominal, smaller, larger$"),
        (lambda: get_case("forging"), r"^unknown case 'forging'; built-in cases: printing, "),
        (lambda: fit_experiment(b"\xff\xfe\x00\x81", target=1.0), r"^could not read the CSV: "),
        (lambda: fit_experiment(b"x1,y1,y2\n1,2,3\n", design=["x9"], target=1.0),
         r"^design column\(s\) not in the file: x9$"),
        (lambda: fit_experiment(b"x1,y1,y2\n1,2,3\n1,,3\n", target=1.0),
         r"^replicate column 'y1' has empty cells$"),
        (lambda: fit_experiment(b"x1,y1,y2\n1,2,3\n", mean_col="y1", target=1.0),
         r"^give both a mean column and an sd column, or replicate columns$"),
        (lambda: f1_from_mean([1.0], "nominal"), r"^nominal-the-best needs a target$"),
        (lambda: f1_from_mean([1.0], "middle"), r"^unknown objective type 'middle'$"),
        (lambda: by_pseudo_weight(np.eye(2), 1.5),
         r"^the weight must be between 0 and 1, got 1\.5$"),
        (lambda: asf(np.eye(2), -0.5), r"^the weight must be between 0 and 1, got -0\.5$"),
        (lambda: min_mse(np.zeros(0), np.zeros(0), "nominal", 1.0),
         r"^the front is empty: run an algorithm first$"),
        (lambda: Normaliser.from_front(np.zeros((0, 2))), r"^the reference front is empty$"),
        (lambda: StudyConfig(repeats=0).settings(), r"^repeats must be at least 1$"),
        (lambda: StudyConfig(algorithms=()).settings(), r"^choose at least one algorithm$"),
        (lambda: QuadraticSurface.from_coefficients([1, 2, 3]).predict(np.zeros((2, 2))),
         r"^the model has 1 variables, got 2$"),
        (lambda: fit_quadratic(np.zeros((3, 1)), np.zeros(2)), r"^3 design rows but 2 responses$"),
        (lambda: fit_quadratic(np.array([[0.0], [1.0], [np.nan]]), np.zeros(3)),
         r"^the design and the responses must be finite numbers$"),
        (lambda: fit_quadratic(np.array([[0.0], [1.0]]), np.zeros(2)),
         r"^a full quadratic model in 1 variables has 3 terms, so it needs at least 3 runs; "
         r"the data has 2$"),
        (lambda: polish(WELDING, np.zeros((1, 2)), n_starts=-1),
         r"^the number of starts must be a whole number of at least 0, got -1$"),
        (lambda: NPGA(pop_size=3), r"^population size must be at least 4, got 3$"),
        (lambda: solve(WELDING, "npga", pop=10, gens=2, archive=True, archive_size=0),
         r"^the archive size must be at least 1, got 0$"),
    ],
    ids=["sd-variables", "infinite-bound", "objective", "unknown-case", "unreadable-csv",
         "missing-design-column", "empty-cell", "mean-without-sd", "nominal-no-target",
         "objective-type", "pseudo-weight", "asf-weight", "min-mse-empty",
         "empty-reference", "study-repeats", "study-no-algorithms", "predict-variables",
         "rows-vs-responses", "non-finite-design", "too-few-runs", "polish-starts",
         "npga-pop", "npga-archive"],
)
def test_drso_guards(call, match):
    with pytest.raises(ConfigError, match=match):
        call()
