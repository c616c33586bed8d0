"""GDA Workbench core library: generative data augmentation for imbalanced images.

The library never imports Streamlit; the dashboard (``app.py``, ``pages/``) and the
command line (``python -m gda_core``) are thin layers over it.

Subpackages
-----------
datasets      in-memory image datasets, loaders and imbalance presets
oversampling  SMOTE-family, augmentation and GAN oversamplers (``fit_resample``)
synthesizers  GANs (vanilla, DCGAN, conditional, MAD-GAN): fit / sample / save / load
classifiers   the CNN retrained on every balanced set
metrics       imbalance-aware classification metrics
experiments   baseline-vs-oversampler comparisons and their results
optimization  dual response surfaces, NSGA-II / SPEA2 / NPGA / eps-constraint, front metrics
viz           plotly figures shared by the dashboard and reports
cli           the headless command line
"""

from gda_core.errors import GDAError

__version__ = "0.1.0"
__all__ = ["GDAError", "__version__"]
