"""Pareto: dual response surface optimisation, explore the mean/sd trade-off and pick."""

import numpy as np
import pandas as pd
import streamlit as st

from gda_core.errors import GDAError
from gda_core.optimization import (
    ALGORITHMS,
    CASES,
    OBJECTIVE_TYPES,
    STUDY_RATES,
    DRSOCase,
    StudyConfig,
)
from gda_core.optimization import explorer as ex
from gda_core.optimization import multi as mx
from gda_core.optimization.fitcheck import MODEL_REDUCED
from gda_core.optimization.job import RUN_KIND as STUDY_KIND
from gda_core.optimization.job import load_study, start_study
from gda_core.viz.pareto import (
    design_space_figure,
    fit_figure,
    fronts_figure,
    multi_front_figure,
    parallel_figure,
)
from pages import _pareto_state as ps
from pages._common import bar_progress, ensure_shell, get_store, plain
from pages._jobs import current_job, ended_result, follow_run, is_running

ensure_shell()
SOURCES = ("Built-in case", "Upload a CSV", "Enter coefficients", "Three or more responses")
STUDY_JOB_KEY = "pareto_study_job"
MULTI_KEY = "pareto_multi"  # case name -> {"front": MultiFront, "picked": row or None}


def label(name: str) -> str:
    return ALGORITHMS[name].label if name in ALGORITHMS else name


st.title("Pareto explorer")
st.caption("Dual response surface optimisation: settings **x** whose mean is on target (F1) "
           "with the smallest standard deviation (F2 = sd). Each point of the Pareto front is "
           "a different compromise; pick the one that suits you.")

# ------------------------------------------------------------------ problem
st.subheader("1 · Problem")
source = st.radio("Problem", SOURCES, horizontal=True, key="pareto-source",
                  label_visibility="collapsed")
base: DRSOCase | None = None
fit = None  # the ExperimentFit of an uploaded CSV


def multi_responses() -> None:
    """k responses (k >= 2): solve with a pymoo algorithm by name, pick for k objectives."""
    name = st.selectbox("Case", list(mx.MULTI_CASES), key="pareto-multi-case",
                        format_func=lambda n: f"{n}: {mx.MULTI_CASES[n].description}")
    mcase = mx.MULTI_CASES[name]
    st.dataframe(pd.DataFrame(
        [{"response": r.name, "goal": mx.GOALS[r.goal], "objective": r.objective_label(),
          "model": r.surface.equation(mcase.variables)} for r in mcase.responses]),
        hide_index=True, width="stretch", key="pareto-multi-responses")
    state = st.session_state.setdefault(MULTI_KEY, {}).setdefault(
        name, {"front": None, "picked": None})
    with st.form("pareto-multi-run"):
        r = st.columns(5)
        alg = r[0].selectbox("Algorithm", list(mx.MULTI_ALGORITHMS), key="pareto-multi-alg",
                             format_func=lambda a: mx.MULTI_ALGORITHMS[a][0])
        mpop = r[1].number_input("Population", 4, 1000, 92, key="pareto-multi-pop")
        mgens = r[2].number_input("Generations", 1, 2000, 200, key="pareto-multi-gens")
        mseed = r[3].number_input("Seed", 0, 10**6, 1, key="pareto-multi-seed")
        go_multi = r[4].form_submit_button("Solve", type="primary")
    if go_multi:
        try:
            state["front"] = mx.solve_multi(mcase, alg, pop=int(mpop), gens=int(mgens),
                                            seed=int(mseed))
            state["picked"] = None
        except GDAError as exc:
            st.error(f"The run could not finish: {plain(exc)}")
    front = state["front"]
    if front is None:
        st.info("Choose an algorithm and press **Solve** (NSGA-III uses Das-Dennis "
                "reference directions sized to the population).")
        return
    st.markdown(f"**{front.label}**: {len(front)} non-dominated points in "
                f"{front.seconds:.2f} s")
    p = st.columns([1, 1, 2], vertical_alignment="bottom")
    if p[0].button("Pick the compromise", key="pareto-multi-compromise",
                   help="Nearest to the ideal point, each objective scaled by the front"):
        state["picked"] = mx.compromise(front.F)
    levels = p[2].text_input(
        "Aspiration levels, one per response (" + ", ".join(front.response_names) + ")",
        key="pareto-multi-ref", placeholder="e.g. 500, 30, 8")
    if p[1].button("Pick nearest to the levels", key="pareto-multi-pick-ref"):
        try:
            Y = [float(v) for v in levels.replace(";", ",").split(",") if v.strip()]
            F_ref = [resp.objective(np.array([y]))[0]
                     for resp, y in zip(mcase.responses, Y, strict=True)]
            state["picked"] = ex.nearest_to_reference(front.F, F_ref)
        except (ValueError, GDAError):
            st.error(f"Type {mcase.n_obj} numbers separated by commas, one per response.")
    st.plotly_chart(multi_front_figure(front, picked=state["picked"]), width="stretch",
                    key="pareto-multi-chart")
    if state["picked"] is not None:
        st.markdown("**Picked**")
        st.table(front.to_frame().iloc[[state["picked"]]].map(lambda v: f"{v:.4g}")
                 .set_axis(["picked"]))
    with st.expander(f"The front as a table ({len(front)} points)"):
        table = front.to_frame()
        st.dataframe(table, width="stretch", key="pareto-multi-table")
        st.download_button("Download the front (CSV)", table.to_csv(index=False),
                           file_name=f"pareto-front-{name}.csv", mime="text/csv",
                           key="pareto-multi-download")


if source == SOURCES[3]:
    multi_responses()
    st.stop()
if source == SOURCES[0]:
    name = st.selectbox("Case", list(CASES), key="pareto-case",
                        format_func=lambda n: f"{n}: {CASES[n].description}")
    base = CASES[name]
elif source == SOURCES[1]:
    good = ps.uploaded_fit()
    if good is None:
        st.info("Upload a CSV or press **Use the example**.")
        st.stop()
    fit = good[1]
    base = fit.case
    with st.expander(f"Fitted models · {good[0]} · R² mean {fit.mean_fit.r2:.3f}, "
                     f"sd {fit.sd_fit.r2:.3f}", expanded=True):
        for notice in fit.notices:
            (st.info if notice.code == MODEL_REDUCED else st.warning)(plain(notice.message))
        st.dataframe(fit.summary_table(), width="stretch", key="pareto-fit-summary",
                     column_config={c: st.column_config.NumberColumn(format="%.4g")
                                    for c in ("r2", "r2_adj", "r2_pred", "sigma", "F", "p",
                                              "lack_of_fit_p")})
        left, right = st.columns([1, 2])
        left.dataframe(fit.coefficient_table(), width="stretch")
        right.plotly_chart(fit_figure(fit), width="stretch", key="pareto-fit")
        st.caption(f"{base.description}; least-squares quadratic models of the run means "
                   "and standard deviations (ddof = 1). Adjusted R²: mean "
                   f"{fit.mean_fit.r2_adj:.3f}, sd {fit.sd_fit.r2_adj:.3f}.")
        tabs = st.tabs(["ANOVA: mean", "ANOVA: sd", "Terms: mean", "Terms: sd"])
        for tab, sf in zip(tabs[:2], (fit.mean_fit, fit.sd_fit), strict=True):
            table = sf.anova()
            tab.dataframe(table, width="stretch")
            if table.attrs.get("note"):
                tab.caption(plain(table.attrs["note"]))
        for tab, sf in zip(tabs[2:], (fit.mean_fit, fit.sd_fit), strict=True):
            tab.dataframe(sf.coefficients(base.variables), width="stretch",
                          column_config={c: st.column_config.NumberColumn(format="%.4g")
                                         for c in ("coef", "se", "t", "p")})
else:
    k = int(st.number_input("Variables (k)", 1, 6, 3, key="pareto-k"))
    st.caption("Coefficients in the order 1, x1..xk, x1²..xk², then the interactions.")
    start = ex.coefficient_frame(k)
    log_sd = st.checkbox("The sd column holds the coefficients of log(s)",
                         value=start.attrs["sd_link"] == "log", key="pareto-coef-log")
    table = st.data_editor(start, key=f"pareto-coef-{k}", width="stretch")
    try:
        base = ex.case_from_coefficients(table, sd_link="log" if log_sd else "identity")
    except GDAError as exc:
        st.error(f"The coefficients cannot be used: {plain(exc)}")
        st.stop()

bkey = ex.case_key(base)
c1, c2, c3 = st.columns([1, 1, 2])
objectives = list(OBJECTIVE_TYPES)
objective = c1.selectbox("Objective type", objectives, key=f"pareto-obj-{bkey}",
                         index=objectives.index(ex.default_objective(base)),
                         format_func=OBJECTIVE_TYPES.get)
t0 = base.target
step = 1.0 if t0 is None or abs(t0) >= 10 else 0.1 if abs(t0) >= 1 else 0.01
target = c2.number_input("Target of the mean", value=t0, key=f"pareto-target-{bkey}",
                         disabled=objective != "nominal", format="%g", step=step,
                         placeholder="type the target")
bounds = c3.data_editor(ex.bounds_frame(base), key=f"pareto-bounds-{bkey}", width="stretch")
k1, k2, k3 = st.columns(3)
sd_max = k1.number_input("Constraint: sd at most", value=None, format="%g",
                         key=f"pareto-sd-max-{bkey}", placeholder="no cap",
                         help="Every algorithm keeps feasible points only (genetic ones "
                              "search with a penalty; the eps-constraint front is filtered)")
lsl = k2.number_input("Lower spec limit of the mean", value=None, format="%g",
                      key=f"pareto-lsl-{bkey}", placeholder="none")
usl = k3.number_input("Upper spec limit of the mean", value=None, format="%g",
                      key=f"pareto-usl-{bkey}", placeholder="none")
if objective == "nominal" and target is None:
    if (sd_notice := base.check_sd()) is not None:
        st.warning(plain(sd_notice.message))
    lo, hi = base.mean_range()
    st.info(f"Type the **target of the mean** (the model reaches about {lo:.4g} to "
            f"{hi:.4g} in the design region), or choose smaller- or larger-the-better. "
            "Nothing is solved until then.")
    st.stop()
try:
    case = ex.configure(base, objective, None if target is None else float(target), bounds,
                        sd_max=sd_max, lsl=lsl, usl=usl)
except GDAError as exc:
    st.error(f"The problem is not valid: {plain(exc)}")
    st.stop()
if (warning := case.check_target()) is not None:
    st.warning(warning)
if (sd_notice := case.check_sd()) is not None:
    st.warning(plain(sd_notice.message))
with st.expander("Models", key="pareto-models-box"):
    st.markdown(f"mean = {case.mean.equation()}  \nsd = {case.sd.equation()}")
cs = ps.case_state(case)

# ---------------------------------------------------------------------- run
st.subheader("2 · Run")
with st.form("pareto-run"):
    defaults = [a for a in ex.DEFAULT_ALGORITHMS if a in ALGORITHMS]
    algorithms = st.multiselect("Algorithms", list(ALGORITHMS), default=defaults,
                                format_func=label, key="pareto-algorithms",
                                help="\n\n".join(f"**{i.label}**: {i.description}"
                                                 for i in ALGORITHMS.values()))
    r = st.columns(6)
    pop = r[0].number_input("Population", 4, 2000, 100, key="pareto-pop")
    gens = r[1].number_input("Generations", 1, 5000, 200, key="pareto-gens")
    pc = r[2].number_input("Crossover rate pc", 0.0, 1.0, 0.5, 0.1, key="pareto-pc")
    pm = r[3].number_input("Mutation rate pm", 0.0, 1.0, 0.5, 0.1, key="pareto-pm")
    seed = r[4].number_input("Seed", 0, 10**6, 1, key="pareto-seed")
    repeats = r[5].number_input("Repeats", 1, 50, 1, key="pareto-repeats",
                                help="Seeds seed, seed + 1, …")
    elitist = st.checkbox("Elitist archive", key="pareto-archive",
                          help="Every genetic algorithm alike keeps the non-dominated union "
                               "of all generations (up to the population size) instead of "
                               "its final population; named '+ archive' in tables and charts")
    run = st.form_submit_button("Run", type="primary")
buttons = st.container(horizontal=True)
complete = buttons.button("Complete the front", key="pareto-complete",
                     help="NSGA-II restarts with fresh seeds and an epsilon-constraint sweep, "
                          "to fill in pieces a single run can miss")
clear = buttons.button("Clear runs", key="pareto-clear",
                  help="Forget this case's runs, pick and study (the shortlist stays)")
status = st.container()  # always there, so the elements below keep their place
if run or complete:
    bar = status.progress(0.0, text="Starting…")
    try:
        if run:
            fronts = ex.run_algorithms(case, cs.archive, algorithms, pop=int(pop),
                                       gens=int(gens), pc=float(pc), pm=float(pm),
                                       seed=int(seed), repeats=int(repeats),
                                       elitist_archive=bool(elitist),
                                       progress=bar_progress(bar))
            st.toast(f"{len(fronts)} run(s) in {sum(f.seconds for f in fronts):.1f} s")
        else:
            cs.archive.complete(progress=bar_progress(bar))
    except GDAError as exc:
        status.error(f"The run could not finish: {plain(exc)}")
    finally:
        bar.empty()
if clear:
    ps.clear_runs(case)

explore_box = st.container()

# -------------------------------------------------------------------- study
with st.expander("Study: algorithms × populations × rates × repeats", key="pareto-study-box"):
    st.caption("Runs every setting and summarises M1', Delta', HV and IGD against the "
               "best-known front. The published study used populations 50 and 100, rates "
               "(pc, pm) = (0, 1), (0.5, 0.5), (1, 0), 10 repeats and 200 generations; the "
               "defaults here are smaller so that it finishes in about a minute.")
    rate_choices = [*STUDY_RATES, (0.9, 1.0)]
    with st.form("pareto-study"):
        genetic = [a for a in ex.DEFAULT_ALGORITHMS if a in ALGORITHMS]
        s_algs = st.multiselect("Algorithms", list(ALGORITHMS), default=genetic,
                                format_func=label, key="pareto-study-algorithms")
        s = st.columns([2, 3])
        s_pops = s[0].multiselect("Populations", [20, 50, 100, 200], default=[50, 100],
                                  key="pareto-study-pops")
        s_rates = s[1].multiselect("Rates (pc, pm)", rate_choices, default=list(STUDY_RATES),
                                   format_func=lambda p: f"({p[0]:g}, {p[1]:g})",
                                   key="pareto-study-rates")
        s = st.columns(3)
        s_repeats = s[0].number_input("Repeats", 1, 50, 3, key="pareto-study-repeats")
        s_gens = s[1].number_input("Generations", 1, 2000, 100, key="pareto-study-gens")
        s_seed = s[2].number_input("First seed", 0, 10**6, 1, key="pareto-study-seed")
        study_go = st.form_submit_button("Run study", type="primary")
    store = get_store(stop=False)  # studies need it; the rest of the page does not
    study_job = None if store is None else current_job(store, STUDY_JOB_KEY, STUDY_KIND)
    if study_go and study_job is not None and is_running(store, study_job):
        st.warning("A study is already running; stop it or wait for it to finish.")
    elif study_go and store is not None:
        try:
            if not s_pops or not s_rates:
                raise GDAError("choose at least one population and one rate pair")
            config = StudyConfig(algorithms=tuple(s_algs), pops=tuple(int(p) for p in s_pops),
                                 rates=tuple(s_rates), repeats=int(s_repeats),
                                 gens=int(s_gens), seed=int(s_seed))
            study_job = start_study(store, case, config, cs.archive.fronts)
            st.session_state[STUDY_JOB_KEY] = study_job
        except GDAError as exc:
            st.error(f"The study could not run: {plain(exc)}")
    if study_job is not None and not is_running(store, study_job):
        study = ended_result(store, study_job, STUDY_JOB_KEY, load_study, "study")
        if study is not None:  # its fronts join the best-known front of its case
            study_state = ps.case_state(study.case)
            study_state.study = study
            study_state.archive.extend(study.fronts)
        study_job = None
    if study_job is not None:
        st.fragment(follow_run, run_every=1.0)(store, study_job, STUDY_JOB_KEY,
                                               "pareto-study-stop", "study")
    if cs.study is not None:
        summary = cs.study.summary()
        summary["algorithm"] = summary["algorithm"].map(label)
        fmt = {c: st.column_config.NumberColumn(format="%.4f")
               for c in summary.columns if "'" in c or c[:2] in ("HV", "IG")}
        st.dataframe(summary, hide_index=True, width="stretch",
                     height=min(700, 35 * (len(summary) + 1) + 3),
                     column_config={**fmt, "seconds": st.column_config.NumberColumn(
                         format="%.2f")})
        downloads = st.container(horizontal=True)
        downloads.download_button("Summary (CSV)", cs.study.summary().to_csv(index=False),
                           file_name=f"pareto-study-{case.name}.csv", mime="text/csv")
        downloads.download_button("Every run (CSV)", cs.study.runs.to_csv(index=False),
                           file_name=f"pareto-study-runs-{case.name}.csv", mime="text/csv")


# ------------------------------------------------------------------ explore
def pick(sol: dict) -> None:
    cs.picked = sol


def shortlist_add() -> None:
    if cs.picked is not None:
        ex.add_to_shortlist(cs, cs.picked)


def shortlist_remove() -> None:
    drop = set(st.session_state.get("pareto-remove", []))
    cs.shortlist[:] = [s for i, s in enumerate(cs.shortlist) if i not in drop]
    st.session_state["pareto-remove"] = []


def factor_ranges() -> ex.FactorRanges | None:
    """The natural units inputs (an expander); None while they cannot be used."""
    with st.expander("Natural units: each factor's natural low and high (coded −1 and +1)",
                     key="pareto-units-box"):
        st.caption("Natural value = centre + half-range × coded value. Leave −1 and 1 to "
                   "show coded values only.")
        low, high, unit = [], [], []
        for j, name in enumerate(case.variables):
            c = st.columns([1, 2, 2, 2], vertical_alignment="bottom")
            c[0].markdown(f"**{name}**")
            low.append(c[1].number_input(f"{name} low", value=-1.0, format="%g",
                                         key=f"pareto-units-low-{j}-{bkey}"))
            high.append(c[2].number_input(f"{name} high", value=1.0, format="%g",
                                          key=f"pareto-units-high-{j}-{bkey}"))
            unit.append(c[3].text_input(f"{name} unit", key=f"pareto-units-unit-{j}-{bkey}"))
        try:
            return ex.FactorRanges(case.variables, tuple(low), tuple(high), tuple(unit))
        except GDAError as exc:
            st.error(f"The factor ranges cannot be used: {plain(exc)}")
            return None


METRIC_COLUMNS = {
    "run": st.column_config.NumberColumn("run", width="small"),
    "algorithm": st.column_config.TextColumn("algorithm", width="medium"),
    "points": st.column_config.NumberColumn("points", width="small",
                                            help="The front's size"),
    **{c: st.column_config.NumberColumn(c, format="%.3f", width="small")
       for c in ("M1'", "Delta'", "HV", "IGD")},
    "seconds": st.column_config.NumberColumn("s", format="%.2f", width="small",
                                             help="Wall time in seconds"),
}


@st.fragment
def explore() -> None:
    st.subheader("3 · Explore and pick")
    best = cs.archive.best_known()
    if not len(best) and cs.archive.fronts:
        st.warning(f"No run found a point that meets the constraints "
                   f"({case.constraints_text()}): loosen them.")
        return
    if not len(best):
        st.info("Choose algorithms and press **Run**. With the defaults (population 100, 200 "
                "generations) each algorithm takes about a second.")
        return
    if case.constrained:
        st.caption(f"Constraints: {case.constraints_text()}; fronts hold feasible points "
                   "only.")
    ps.apply_pick_request(cs, best)

    def on_select() -> None:
        state = st.session_state.get(ps.CHART_KEY)
        if state is not None:
            ex.pick_from_selection(cs, cs.archive.best_known(), state.get("selection"))

    left, right = st.columns([3, 2])
    with left:
        v1, v2 = st.columns([2, 1])
        view = v1.radio("View", ["mean", "objectives"], horizontal=True, key="pareto-view",
                        format_func={"mean": "mean vs sd", "objectives": "F1 vs F2"}.get,
                        label_visibility="collapsed")
        runs = v2.toggle("Show each run", True, key="pareto-show-runs")
        fig = fronts_figure(cs.archive.fronts if runs else [], best, view=view,
                            objective=case.objective, target=case.target,
                            variables=case.variables, picked=cs.picked,
                            shortlist=cs.shortlist)
        st.plotly_chart(fig, on_select=on_select, selection_mode=("points",),
                        key=ps.CHART_KEY, width="stretch")
        st.caption("Click a point to pick it. Each algorithm has its own colour and marker; "
                   "the grey line is the best-known front (one segment per connected "
                   "piece); stars are the picked and shortlisted solutions.")
    with right:
        st.markdown(ex.pieces_text(best))
        st.caption(ex.METRICS_CAPTION)
    table = ex.metrics_table(cs.archive, best)  # full width: every column fits
    st.dataframe(table, hide_index=True, width="stretch",
                 height=min(400, 35 * (len(table) + 1) + 3),
                 key="pareto-metrics", column_config=METRIC_COLUMNS)

    st.markdown("**Suggestions** on the best-known front")
    top, bottom = st.columns(4), st.columns(4)
    weights = {}
    for col, (name, (desc, slider)) in zip(top, ex.SUGGESTIONS.items(), strict=True):
        col.markdown(f"**{name}**", help=desc)
        if slider:
            weights[name] = col.slider(slider, 0.0, 1.0, 0.5, 0.05, key=f"pareto-w-{name}")
        else:
            col.caption(ex.SUGGESTIONS_SHORT[name])
    rows = ex.suggestion_rows(case, best, weights["pseudo-weight"], weights["ASF"])
    for col, (name, row) in zip(bottom, rows.items(), strict=True):
        if row is None:
            col.caption("not defined for larger-the-better")
            continue
        sol = ex.solution(best, row, name)
        col.button(f"Pick: mean {sol['mean']:.4g}, sd {sol['sd']:.4g}",
                   key=f"pareto-pick-{name}", on_click=pick, args=(sol,),
                   help=f"Pick the {name} point")

    st.markdown("**Reference point**: type the levels you aspire to; the nearest point of "
                "the best-known front (each objective scaled by the front's range) is picked.")
    r = st.columns([1, 1, 1], vertical_alignment="bottom")
    a1 = r[0].number_input("Aspired F1", value=float(f"{best.F[:, 0].min():.4g}"),
                           format="%g", key=f"pareto-ref-f1-{bkey}")
    a2 = r[1].number_input("Aspired sd", value=float(f"{best.F[:, 1].min():.4g}"),
                           format="%g", key=f"pareto-ref-sd-{bkey}")
    ref_row = ex.nearest_to_reference(best.F, [a1, a2])
    r[2].button("Pick the nearest point", key="pareto-pick-reference", on_click=pick,
                args=(ex.solution(best, ref_row, f"reference point ({a1:g}, {a2:g})"),))

    units = factor_ranges()
    if cs.picked is None:
        st.info("Click a point on the chart, or accept a suggestion, to see its settings.")
    else:
        st.markdown(f"**Picked** · {cs.picked['source']}")
        st.table(ex.shown_solution(cs.picked, case.variables, units))
        if fit is not None:
            st.markdown("95 % intervals of the fitted surfaces at the picked point "
                        "(confidence: the mean response; prediction: a new run)")
            st.dataframe(ex.picked_intervals(fit, cs.picked["x"]), width="stretch",
                         key="pareto-intervals",
                         column_config={c: st.column_config.NumberColumn(format="%.4g")
                                        for c in ("fit", "ci_low", "ci_high", "pi_low",
                                                  "pi_high")})
        st.button("Add to shortlist", key="pareto-add", on_click=shortlist_add,
                  type="primary")
        color = st.radio("Colour lines by", ["F1", "sd"], horizontal=True,
                         key="pareto-color")
        st.plotly_chart(parallel_figure(best, case.variables, bounds=case.bounds,
                                        color_by=color, picked=cs.picked),
                        width="stretch", key="pareto-parallel")

    if case.k >= 2:
        st.markdown("**Design space**: contours of the mean and the sd over two factors, "
                    "with the Pareto set (dots) and the picked point (star)")
        d = st.columns(3)
        names = list(case.variables)
        fi = d[0].selectbox("Horizontal factor", range(case.k), 0, format_func=names.__getitem__,
                            key=f"pareto-ds-x-{bkey}")
        fj = d[1].selectbox("Vertical factor", range(case.k), 1, format_func=names.__getitem__,
                            key=f"pareto-ds-y-{bkey}")
        at_pick = d[2].radio("Other factors at", ["picked point", "centre"],
                             horizontal=True, key="pareto-ds-fixed",
                             disabled=cs.picked is None or case.k == 2)
        if fi == fj:
            st.info("Choose two different factors.")
        else:
            fixed = cs.picked["x"] if cs.picked is not None and at_pick == "picked point" \
                else None
            st.plotly_chart(design_space_figure(case, fi, fj, fixed=fixed, front=best,
                                                picked=cs.picked),
                            width="stretch", key="pareto-design-space")

    with st.expander(f"Best-known front as a table ({len(best)} points)",
                     key="pareto-front-box"):
        front_table = ex.solutions_frame(
            [ex.solution(best, i, "best-known front") for i in range(len(best))],
            case.variables, units).drop(columns="source")
        st.dataframe(front_table, width="stretch", key="pareto-front-table")
        st.download_button("Download the front (CSV)", front_table.to_csv(index=False),
                           file_name=f"pareto-front-{case.name}.csv", mime="text/csv",
                           key="pareto-front-download")

    if cs.shortlist:
        st.markdown(f"**Shortlist** ({len(cs.shortlist)})")
        frame = ex.solutions_frame(cs.shortlist, case.variables, units)
        st.dataframe(frame.set_axis(range(1, len(frame) + 1)), width="stretch")
        d = st.columns([1, 2, 1, 1])
        d[0].download_button("Download shortlist (CSV)", frame.to_csv(index=False),
                             file_name=f"pareto-shortlist-{case.name}.csv", mime="text/csv",
                             key="pareto-download")
        d[1].multiselect("Rows to remove", list(range(len(cs.shortlist))), key="pareto-remove",
                         format_func=lambda i: f"{i + 1}: {cs.shortlist[i]['source']}",
                         label_visibility="collapsed", placeholder="Rows to remove")
        d[2].button("Remove", key="pareto-remove-btn", on_click=shortlist_remove)
        d[3].button("Clear shortlist", key="pareto-clear-shortlist",
                    on_click=lambda: cs.shortlist.clear())


with explore_box:
    explore()
