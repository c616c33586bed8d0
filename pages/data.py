"""Data: choose a source and an imbalance; preview class counts and sample images."""

import numpy as np
import streamlit as st

from gda_core.datasets import PRESETS, SOURCES, ImbalanceSpec, make_imbalanced, suggest_spec
from gda_core.datasets.folder import FITS
from gda_core.errors import GDAError
from gda_core.experiments import DataConfig
from gda_core.viz import class_counts_figure, image_grid
from pages._common import (
    DATA_KEY,
    SEED_KEY,
    SPEC_KEY,
    current_data,
    display_scale,
    ensure_shell,
    load_config,
    plain,
    save_upload,
    upload_cache,
    upload_report,
)

ensure_shell()
SIZES = [None, 8, 16, 28, 32, 64, 128]
FIT_LABELS = {"crop": "centre crop (keep aspect)", "pad": "pad with black (keep aspect)",
              "stretch": "stretch"}

st.title("Data")
cfg, spec, seed = current_data()

# ---------------------------------------------------------------- 1. source
st.subheader("1 · Source")
names = list(SOURCES)
source = st.selectbox("Dataset", names, index=names.index(cfg.source),
                      format_func=lambda n: SOURCES[n].label)
st.caption(SOURCES[source].description)
needs = SOURCES[source].needs
root, download, path, upload = cfg.root or "", cfg.download, cfg.path or "", None
with st.form("source"):
    if needs == "root":
        root = st.text_input("Folder with the dataset files", value=root,
                             placeholder=f"e.g. data/{source}",
                             help="MNIST / Fashion-MNIST: the four IDX files (.gz or not); "
                                  "CIFAR-10: torchvision's cifar-10-batches-py folder.")
        download = st.checkbox("Download into that folder if missing (needs internet)",
                               value=download)
    elif source == "folder":
        path = st.text_input("Image folder (one sub-folder per class)",
                             value=path if cfg.source == "folder" else "",
                             help="Optional train/ and test/ sub-folders above the classes.")
    elif source == "zip":
        upload = st.file_uploader("Zip of class folders", type=["zip"],
                                  help="e.g. normal/, underfill_FR/, underfill_Fan/ inside.")
    user_images = needs == "path"
    c3, c4, c5 = st.columns(3)
    size = c3.selectbox("Image size", SIZES, index=SIZES.index(cfg.image_size),
                        format_func=lambda v: "native (folders: 64×64)" if v is None
                        else f"{v}×{v}")
    colors = [None, "grayscale", "rgb"]
    color = c4.selectbox("Colour", colors, index=colors.index(cfg.color),
                         format_func=lambda v: "native (folders: colour if the images have it)"
                         if v is None else v)
    fit = c5.selectbox("Non-square images", FITS, index=FITS.index(cfg.fit or "crop"),
                       format_func=FIT_LABELS.get, disabled=not user_images,
                       help="Folders and zips: how photos of other shapes become square. A "
                            "centre crop or padding keeps the aspect ratio; stretching "
                            "distorts it.")
    submitted = st.form_submit_button("Load dataset", type="primary")

if submitted:
    new = DataConfig(source=source, root=root.strip() or None, image_size=size, color=color,
                     download=download, fit=fit if user_images else None)
    try:
        if source == "folder":
            new = DataConfig(**{**new.__dict__, "path": path.strip() or None})
        elif source == "zip":
            if upload is None and not (cfg.source == "zip" and cfg.path):
                raise GDAError("choose a .zip file to upload first")
            target = save_upload(upload.name, upload.getvalue()) if upload else cfg.path
            new = DataConfig(**{**new.__dict__, "source": "folder", "path": str(target)})
        loaded = load_config(new)
    except GDAError as exc:
        st.error(f"Could not load the dataset: {plain(exc)}")
    else:
        if new != cfg:  # new data: start from an imbalance that fits it
            spec = suggest_spec(loaded)
            st.session_state[SPEC_KEY] = spec
        st.session_state[DATA_KEY] = new
        cfg = new
        st.toast(f"Loaded {SOURCES[new.source].label}")

try:
    splits = load_config(cfg)
except GDAError as exc:
    st.error(f"Could not load the dataset: {plain(exc)}")
    st.stop()

pool = splits.train
st.caption(f"Loaded **{SOURCES[cfg.source].label}**: {len(pool)} training images"
           + (f", {len(splits.test)} test images" if splits.test is not None else "")
           + f", {pool.n_classes} classes, images {pool.image_shape[1]}×{pool.image_shape[2]}"
           + f" with {pool.image_shape[0]} channel(s).")
skipped = upload_report(cfg.path) + list(splits.report)
if skipped:
    with st.expander(f"{len(skipped)} file(s) skipped while loading"):
        st.text("\n".join(skipped[:200]))
cache = upload_cache()
n_uploads, upload_bytes = cache.usage()
if n_uploads:
    row = st.container(horizontal=True, vertical_alignment="center")
    row.caption(f"Uploaded zips kept extracted: {n_uploads} ({upload_bytes / 1024**2:.1f} MB "
                f"of at most {cache.max_bytes / 1024**2:.0f} MB; the least recently used "
                "go first).")
    if row.button("Clear uploads", key="clear_uploads",
                  help="Remove every extracted upload except the dataset in use"):
        gone, freed = cache.clear(keep=cfg.path if cfg.source == "folder" else None)
        st.toast(f"Removed {gone} upload(s), {freed / 1024**2:.1f} MB")
        st.rerun()

# ------------------------------------------------------------- 2. imbalance
st.subheader("2 · Imbalance")
class_names = pool.class_names
n = len(class_names)
modes = ["Ratio", "Per-class counts", "Preset"]
mode_now = "Preset" if spec.name in PRESETS else ("Per-class counts" if spec.counts else "Ratio")
mode = st.segmented_control("Describe the imbalance by", modes, default=mode_now)
mode = mode or mode_now
c1, c2, c3 = st.columns(3)
test_per_class = c1.number_input("Test images per class", 1, 10000,
                                 int(spec.test_per_class), help="Balanced held-out test set.")
seed = int(c2.number_input("Split seed (preview)", 0, 10**6, seed))
hflip = c3.checkbox("Add horizontal flips to training", value=spec.hflip,
                    help="As in the AM study; doubles every class.")
label = {i: f"{i}: {name}" for i, name in enumerate(class_names)}
try:
    if mode == "Ratio":
        smallest = min(range(n), key=lambda i: (pool.counts()[i], -i))
        default_min = [c for c in spec.minority_classes if c < n] or [smallest]
        minority = st.multiselect("Minority classes", list(range(n)), default=default_min,
                                  format_func=label.get)
        d1, d2 = st.columns(2)
        ratio = d1.number_input("Minority / majority ratio", min_value=0.001, max_value=1.0,
                                value=float(spec.ratio or 0.1), step=0.01, format="%.3f")
        majority = d2.number_input("Images per majority class (0 = as many as all have)",
                                   0, 100000, int(spec.majority_count or 0))
        new_spec = ImbalanceSpec(ratio=ratio, minority_classes=tuple(minority),
                                 majority_count=majority or None, test_per_class=test_per_class,
                                 hflip=hflip, name="ratio")
    elif mode == "Per-class counts":
        counts = dict(spec.counts or {})
        held_out = test_per_class if splits.test is None else 0
        available = {i: max(1, n - held_out) for i, n in pool.counts().items()}
        rows = [{"class": label[i],
                 "train images": int(min(counts.get(i) or available[i], available[i])),
                 "keep": i in counts or not spec.counts} for i in range(n)]
        edited = st.data_editor(rows, hide_index=True, disabled=["class"],
                                column_config={"train images": st.column_config.NumberColumn(
                                    min_value=1, step=1)})
        chosen = {i: int(r["train images"]) for i, r in enumerate(edited) if r["keep"]}
        new_spec = ImbalanceSpec(counts=chosen, test_per_class=test_per_class, hflip=hflip,
                                 name="counts")
    else:
        preset_names = list(PRESETS)
        pick = st.selectbox("Preset", preset_names,
                            index=preset_names.index(spec.name) if spec.name in PRESETS else 0)
        st.caption(PRESETS[pick].description)
        cap = st.number_input("Cap for classes that keep all their images (0 = no cap)", 0,
                              100000, int(spec.max_per_class or 0),
                              help="CPU-friendly: e.g. 1000 for the MNIST cases.")
        base = PRESETS[pick]
        new_spec = ImbalanceSpec(**{**base.__dict__, "test_per_class": test_per_class,
                                    "hflip": hflip, "max_per_class": cap or None})
    data = make_imbalanced(splits, new_spec, random_state=seed)
except GDAError as exc:
    st.error(f"This imbalance cannot be built: {plain(exc)}")
    st.stop()

st.session_state[SPEC_KEY] = new_spec
st.session_state[SEED_KEY] = seed
for note in data.notes:
    st.caption(f"Note: {plain(note)}")

left, right = st.columns([3, 2])
with left:
    st.plotly_chart(class_counts_figure(data.summary()), width="stretch")
with right:
    st.dataframe(data.summary(), hide_index=True, width="stretch")
    ratio_now = min(data.train.counts().values()) / max(data.train.counts().values())
    st.metric("Smallest / largest class", f"{ratio_now:.3f}")

st.subheader("3 · Sample images")
scale = display_scale(data.train.image_shape[1])
cols = st.columns(2)
for i, name in enumerate(data.class_names):  # the kept classes, re-indexed
    imgs = data.train.images[data.train.labels == i][:12]
    role = "minority" if i in data.minority_classes else "majority"
    with cols[i % 2]:
        st.markdown(f"**{plain(name)}** · {role} · {int(np.sum(data.train.labels == i))} "
                    "train")
        st.image(image_grid(imgs, ncols=12, scale=scale))

st.page_link("pages/compare.py", label="Next: compare oversamplers",
             icon=":material/arrow_forward:")
