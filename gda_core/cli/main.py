"""``python -m gda_core``: run comparisons headless and list what is available."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from gda_core.cli.choices import LazyChoices
from gda_core.cli.drso import add_drso_parsers
from gda_core.cli.replay import add_replay_parser
from gda_core.errors import GDAError

# Heavy modules (torch, scikit-learn, the datasets) are imported by the command that needs
# them, so ``drso`` and ``--help`` start fast; the choices below are read when checked.
CLASSIFIER_LOSSES = LazyChoices("gda_core.classifiers.losses", "CLASSIFIER_LOSSES")
ARCHITECTURES = LazyChoices("gda_core.classifiers.factory", "ARCHITECTURES")


def add_data_args(parser: argparse.ArgumentParser) -> None:
    """Arguments choosing the dataset and the imbalance (shared by compare and train)."""
    d = parser.add_argument_group("data")
    d.add_argument("--dataset", default="digits",
                   help="digits (default), mnist, fashion-mnist, cifar10, folder or zip")
    d.add_argument("--root", help="folder holding mnist / fashion-mnist / cifar10 files")
    d.add_argument("--path", help="image folder or .zip of class folders")
    d.add_argument("--image-size", type=int, help="resize images to this side (pixels; "
                   "folders and zips: 64 by default)")
    d.add_argument("--color", choices=("auto", "grayscale", "rgb"),
                   help="folders and zips: auto (default) keeps colour when images have it")
    d.add_argument("--fit", choices=("crop", "pad", "stretch"),
                   help="folders and zips: make non-square images square by a centre crop "
                   "(default), padding, or stretching")
    d.add_argument("--download", action="store_true",
                   help="download torchvision datasets into --root when missing")
    d.add_argument("--no-data-cache", dest="data_cache", action="store_false",
                   help="decode the images again instead of reading them from the cache of "
                   "decoded datasets ($GDA_CACHE_DIR, default ~/.cache/gda-workbench/decoded)")
    im = parser.add_argument_group("imbalance (one of --preset, --ratio, --counts)")
    im.add_argument("--preset", help="am-study, mnist-case1, mnist-case2, mnist-case3, lt-100")
    im.add_argument("--ratio", type=float, help="minority/majority ratio in (0, 1]")
    im.add_argument("--minority", help="minority class indices for --ratio, e.g. 3,8")
    im.add_argument("--majority-count", type=int, help="images per majority class (--ratio)")
    im.add_argument("--counts", help="per-class training counts, e.g. 0=500,1=25,2=25")
    im.add_argument("--test-per-class", type=int, help="balanced test images per class")
    im.add_argument("--max-per-class", type=int, help="cap for classes that keep 'all' images")
    im.add_argument("--hflip", action="store_true", help="add horizontal flips to training")


def add_classifier_args(group: argparse._ArgumentGroup) -> None:
    """Loss and architecture of the classifier (compare)."""
    group.add_argument("--loss", default="cross-entropy", choices=CLASSIFIER_LOSSES, metavar="LOSS",
                       help="training loss: %(choices)s (default cross-entropy)")
    group.add_argument("--focal-gamma", type=float, default=2.0,
                       help="focusing parameter of --loss focal (default 2)")
    group.add_argument("--architecture", default="am-cnn", choices=ARCHITECTURES,
                       metavar="NAME",
                       help="am-cnn (default), resnet18 (from scratch, slow on CPU) or "
                       "ensemble (soft voting of AM-study CNNs)")
    group.add_argument("--ensemble-size", type=int, default=3,
                       help="models in --architecture ensemble (default 3)")
    group.add_argument("--classifier-reference", action="store_true",
                       help="train the classifier on its float32 reference path (PyTorch's "
                            "default Adam, NCHW) instead of the fast path (the layout and "
                            "bf16 autocast if measured faster on this machine, fused Adam)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gda_core`` command."""
    parser = argparse.ArgumentParser(
        prog="python -m gda_core",
        description="GDA Workbench: compare oversamplers for imbalanced image classification, "
                    "train GAN synthesizers, and explore dual-response Pareto fronts.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list datasets, imbalance presets and methods")

    cmp_ = sub.add_parser("compare", help="train the same CNN on the baseline and each "
                          "oversampled training set and compare metrics")
    add_data_args(cmp_)
    m = cmp_.add_argument_group("methods and training")
    m.add_argument("--methods", default="baseline,smote,borderline-smote,adasyn",
                   help="comma-separated: baseline,smote,borderline-smote,adasyn,random,augment")
    m.add_argument("--param", action="append", metavar="METHOD.NAME=VALUE",
                   help="method parameter, e.g. smote.k_neighbors=3 (repeatable)")
    m.add_argument("--seeds", help="e.g. 0,1,2 or 0-4; with cross-validation each seed is "
                   "one repeat of the folds (default: 0 on a held-out test set, 0,1 with "
                   "cross-validation)")
    m.add_argument("--epochs", type=int, default=15)
    m.add_argument("--batch-size", type=int, default=64)
    m.add_argument("--lr", type=float, default=1e-3)
    m.add_argument("--width", type=int, default=16, help="channels of the first conv block")
    m.add_argument("--device", default="auto", help="auto, cpu or cuda")
    add_classifier_args(m)
    t = cmp_.add_argument_group("how the classifiers are tested")
    t.add_argument("--protocol", choices=("auto", "cv", "holdout"), default="auto",
                   help="cv: repeated stratified k-fold cross-validation over all real "
                   "images; holdout: a balanced held-out test set; auto (default): cv when "
                   "the data have no test split of their own and a class has fewer than "
                   "100 images")
    t.add_argument("--folds", type=int, default=5, help="folds of the cross-validation "
                   "(default 5)")
    t.add_argument("--primary-metric", default="f1_macro",
                   choices=("f1_macro", "minority_recall", "acsa", "gmean"),
                   help="the one metric tested against the baseline, chosen before the run "
                   "(default f1_macro); the others are descriptive")
    q = cmp_.add_argument_group("sample quality and ratio sweep")
    q.add_argument("--sample-quality", action=argparse.BooleanOptionalAction, default=True,
                   help="score the synthesized images per class (FID beside a real-vs-real "
                   "FID at the same count, precision/recall, density/coverage, diversity) on "
                   "features of a CNN trained on the full data (cached); on by default. "
                   "With --no-sample-quality the quality gate checks only the pixels "
                   "(noise, copies, near-identical images)")
    q.add_argument("--quality-cache", metavar="DIR",
                   help="folder caching that feature CNN (default: the system temp folder)")
    q.add_argument("--ratios", help="run a real:synthetic ratio sweep instead, e.g. "
                   "0,0.5,1,2,5 (synthesized = ratio x real images per minority class)")
    q.add_argument("--sweep-method", help="oversampler of the sweep (default: the first "
                   "non-baseline method of --methods)")
    q.add_argument("--sweep-metric", default="f1_macro", help="metric summarised per ratio")
    x = cmp_.add_argument_group("where the work runs")
    x.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local: here, one method x seed after another (default); ray: every "
                   "method x seed (a sweep: every seed) as a task on a Ray cluster "
                   "(pip install -r requirements-ray.txt); the same seeds give the same "
                   "numbers either way")
    x.add_argument("--ray-address", metavar="ADDRESS",
                   help="Ray cluster to join: auto, HOST:6379 or ray://HOST:10001 (default: "
                   "start a private Ray instance on this machine for the run, with its own "
                   "folder and token)")
    x.add_argument("--ray-token-file", metavar="PATH",
                   help="file holding the authentication token of the cluster given by "
                   "--ray-address (on its head node `ray get-auth-token` prints it); Ray's "
                   "own RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH work too")
    x.add_argument("--ray-cpus", type=int, metavar="N",
                   help="CPUs Ray reserves for each task, and the torch threads it uses "
                   "(default: as many as torch uses here, so the numbers equal a local run's; "
                   "fewer run more tasks at once, and a GAN's numbers then differ slightly "
                   "from a local run with more threads)")
    o = cmp_.add_argument_group("output")
    o.add_argument("--json", type=Path, help="write the full result as JSON (updated after "
                   "every finished method, so an interrupted run keeps what it finished)")
    o.add_argument("--save", action="store_true", help="store the result in the run store")
    o.add_argument("--runs-dir", type=Path, help="run store folder for --save (default "
                   "$GDA_RUNS_DIR or ./runs)")
    o.add_argument("--name", default="", help="label of the saved run")
    o.add_argument("--export", type=Path, metavar="DIR", help="write result.json, metrics.csv, "
                   "figures.html and sample PNGs to DIR")
    o.add_argument("--quiet", action="store_true", help="no progress output")
    o.add_argument("--dry-run", action="store_true",
                   help="print the protocol and how long the comparison would take on this "
                   "machine (from earlier runs in --runs-dir, else a training step timed "
                   "here), then exit without running it")

    tr = sub.add_parser("train", help="train a GAN synthesizer in a worker process (the "
                        "same runner as the dashboard's Train page) and print its progress")
    add_data_args(tr)
    t = tr.add_argument_group("synthesizer")
    t.add_argument("--synthesizer", default="dcgan", help="gan, dcgan, cgan or madgan")
    t.add_argument("--class", dest="classes", help="classes to learn, e.g. 3,8 "
                   "(default: the minority classes)")
    t.add_argument("--epochs", type=int, help="passes over each class's images")
    t.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="synthesizer parameter, e.g. lr_d=2e-4, d_steps=4, loss=minimax")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--sample-every", type=int, default=25, help="steps between sample grids")
    t.add_argument("--quality-every", type=int, default=0,
                   help="log the FID of the sample grid every N steps (0 = off)")
    t.add_argument("--runs-dir", type=Path, help="run store folder (default $GDA_RUNS_DIR "
                   "or ./runs)")
    t.add_argument("--json", type=Path, help="write the run's summary as JSON")
    t.add_argument("--quiet", action="store_true", help="no progress output")
    t.add_argument("--dry-run", action="store_true",
                   help="print how long the training would take on this machine (its steps "
                   "times a step timed here), then exit without training")

    add_drso_parsers(sub)
    add_replay_parser(sub)
    return parser


OUTPUT_OPTIONS = (("json", "--json", False), ("csv", "--csv", False), ("out", "--out", False),
                  ("export", "--export", True))
"""Options naming a file (or, last field True, a folder) that a command writes."""


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any work starts, output paths that cannot be written (a read-only or
    missing folder), rather than failing after a long computation.

    Raises
    ------
    ConfigError
        Naming the option, the path and the reason.
    """
    import tempfile

    from gda_core.errors import ConfigError

    for attr, option, is_folder in OUTPUT_OPTIONS:
        path = getattr(args, attr, None)
        if path is None:
            continue
        path = Path(path)
        if path.is_dir() and not is_folder:
            raise ConfigError(f"{option} {path} is a folder; give a file name")
        folder = path if is_folder else path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # --export creates missing folders
        if not is_folder and folder != path.parent:
            raise ConfigError(f"{option} {path}: the folder {path.parent} does not exist")
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise ConfigError(f"{option} {path}: cannot write in {folder} "
                              f"({exc.strerror or exc})") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "data_cache", True):
        import os

        from gda_core.datasets.cache import CACHE_DIR_ENV

        os.environ[CACHE_DIR_ENV] = "off"  # here and in the workers this command starts
    try:
        check_outputs(args)
        if args.command == "list":
            from gda_core.cli.commands import list_everything

            print(list_everything())
            return 0
        if args.command == "train" and args.dry_run:
            from gda_core.cli.train import train_dry_run

            return train_dry_run(args)
        if args.command == "train":
            from gda_core.runs.worker import WarmWorker

            # the worker starts Python and imports torch while this process checks the
            # settings and the data (on another core): the run starts seconds sooner
            warm = WarmWorker(["gda_core.experiments.train"])
            try:
                from gda_core.cli.train import train

                return train(args, warm=warm)
            finally:
                warm.close()  # unused when the settings were refused
        if args.command in ("drso", "drso-study"):
            from gda_core.cli.drso import drso, drso_study

            return drso(args) if args.command == "drso" else drso_study(args)
        if args.command == "replay":
            from gda_core.cli.replay import replay

            return replay(args)
        from gda_core.cli.args import config_from_args, sweep_from_args
        from gda_core.cli.commands import compare, sweep
        from gda_core.runs.executors import ExecutorConfig

        config = config_from_args(args)
        if getattr(args, "dry_run", False):
            from gda_core.cli.commands import compare_dry_run

            return compare_dry_run(config, runs_dir=args.runs_dir)
        executor = ExecutorConfig(args.executor, args.ray_address, args.ray_cpus,
                                  args.ray_token_file)
        executor.check_available()
        if args.ratios is not None:
            return sweep(config, sweep_from_args(args, config), args, executor=executor)
        return compare(config, json_path=args.json, quiet=args.quiet, save=args.save,
                       runs_dir=args.runs_dir, name=args.name, export=args.export,
                       executor=executor)
    except GDAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output was piped into e.g. head, which closed early
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file the user named cannot be read or written
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
