"""GDA Workbench core library: generative data augmentation for imbalanced images.

The library never imports Streamlit; the dashboard (``app.py``, ``pages/``) and the
command line (``python -m gda_core``) are thin layers over it.

Subpackages, lowest layer first (a module imports only its own layer and those below;
``tests/test_architecture.py`` checks it)
-------------------------------------------------------------------------------------
errors, notices, devices, seeds, images
              user-facing errors and notices; the one rule for ``device``, for seeds and
              for checking an image batch
runs          the run store, background workers and executors (knows no model)
datasets      in-memory image datasets, loaders, imbalance presets, the stratified split
oversampling  the ``fit_resample`` contract and parameter specs (``base``, ``params``),
              SMOTE-family and augmentation oversamplers, and the one method registry
              (``oversampling.registry``: every method, GANs included, by name)
synthesizers  GANs (vanilla, DCGAN, conditional, MAD-GAN, ADSO / AMO): fit / sample / save /
              load; they subclass the oversampling contract
classifiers   the CNN retrained on every balanced set
metrics       imbalance-aware classification metrics, sample quality, the quality gate
optimization  dual response surfaces, NSGA-II / SPEA2 / NPGA / eps-constraint, front metrics
viz           plotly figures and image grids shared by the dashboard, reports and run folders
experiments   baseline-vs-oversampler comparisons, sweeps and training jobs, their results
replays       re-runs of published studies
cli           the headless command line
"""

from gda_core.errors import GDAError

__version__ = "0.1.0"
__all__ = ["GDAError", "__version__"]
