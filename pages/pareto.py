"""Pareto: dual response surface optimisation, explore the mean/sd trade-off and pick."""

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
from gda_core.optimization.job import RUN_KIND as STUDY_KIND
from gda_core.optimization.job import load_study, start_study
from gda_core.viz.pareto import fit_figure, fronts_figure, parallel_figure
from pages import _pareto_state as ps
from pages._common import bar_progress, ensure_shell, get_store, plain
from pages._jobs import current_job, ended_result, follow_run, is_running

ensure_shell()
SOURCES = ("Built-in case", "Upload a CSV", "Enter coefficients")
STUDY_JOB_KEY = "pareto_study_job"


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
        left, right = st.columns([1, 2])
        left.dataframe(fit.coefficient_table(), width="stretch")
        right.plotly_chart(fit_figure(fit), width="stretch", key="pareto-fit")
        st.caption(f"{base.description}; least-squares full quadratic models of the run "
                   "means and standard deviations (ddof = 1). Adjusted R²: mean "
                   f"{fit.mean_fit.r2_adj:.3f}, sd {fit.sd_fit.r2_adj:.3f}.")
else:
    k = int(st.number_input("Variables (k)", 1, 6, 3, key="pareto-k"))
    st.caption("Coefficients in the order 1, x1..xk, x1²..xk², then the interactions.")
    table = st.data_editor(ps.coefficient_frame(k), key=f"pareto-coef-{k}", width="stretch")
    try:
        base = ps.case_from_coefficients(table)
    except GDAError as exc:
        st.error(f"The coefficients cannot be used: {plain(exc)}")
        st.stop()

bkey = ps.case_key(base)
c1, c2, c3 = st.columns([1, 1, 2])
objectives = list(OBJECTIVE_TYPES)
objective = c1.selectbox("Objective type", objectives, key=f"pareto-obj-{bkey}",
                         index=objectives.index(ps.default_objective(base)),
                         format_func=OBJECTIVE_TYPES.get)
t0 = ps.default_target(base)
target = c2.number_input("Target of the mean", value=t0, key=f"pareto-target-{bkey}",
                         disabled=objective != "nominal", format="%g",
                         step=1.0 if abs(t0) >= 10 else 0.1 if abs(t0) >= 1 else 0.01)
bounds = c3.data_editor(ps.bounds_frame(base), key=f"pareto-bounds-{bkey}", width="stretch")
try:
    case = ps.configure(base, objective, float(target), bounds)
except GDAError as exc:
    st.error(f"The problem is not valid: {plain(exc)}")
    st.stop()
if (warning := case.check_target()) is not None:
    st.warning(warning)
with st.expander("Models", key="pareto-models-box"):
    st.markdown(f"mean = {case.mean.equation()}  \nsd = {case.sd.equation()}")
cs = ps.case_state(case)

# ---------------------------------------------------------------------- run
st.subheader("2 · Run")
with st.form("pareto-run"):
    defaults = [a for a in ps.DEFAULT_ALGORITHMS if a in ALGORITHMS]
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
            fronts = ps.run_algorithms(case, cs.archive, algorithms, pop=int(pop),
                                       gens=int(gens), pc=float(pc), pm=float(pm),
                                       seed=int(seed), repeats=int(repeats),
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
        genetic = [a for a in ps.DEFAULT_ALGORITHMS if a in ALGORITHMS]
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
            target = ps.case_state(study.case)
            target.study = study
            target.archive.extend(study.fronts)
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
        ps.add_to_shortlist(cs, cs.picked)


def shortlist_remove() -> None:
    drop = set(st.session_state.get("pareto-remove", []))
    cs.shortlist[:] = [s for i, s in enumerate(cs.shortlist) if i not in drop]
    st.session_state["pareto-remove"] = []


@st.fragment
def explore() -> None:
    st.subheader("3 · Explore and pick")
    best = cs.archive.best_known()
    if not len(best):
        st.info("Choose algorithms and press **Run**. With the defaults (population 100, 200 "
                "generations) each algorithm takes about a second.")
        return
    ps.apply_pick_request(cs, best)

    def on_select() -> None:
        state = st.session_state.get(ps.CHART_KEY)
        if state is not None:
            ps.pick_from_selection(cs, cs.archive.best_known(), state.get("selection"))

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
        st.caption("Click a point to pick it. The grey line is the best-known front (one "
                   "segment per connected piece); stars are the picked and shortlisted "
                   "solutions.")
    with right:
        st.markdown(ps.pieces_text(best))
        table = ps.metrics_table(cs.archive, best)
        fmt = st.column_config.NumberColumn(format="%.4f")
        st.dataframe(table, hide_index=True, width="stretch",
                     height=min(400, 35 * (len(table) + 1) + 3),
                     key="pareto-metrics",
                     column_config={"M1'": fmt, "Delta'": fmt, "HV": fmt, "IGD": fmt,
                                    "seconds": st.column_config.NumberColumn(format="%.2f")})
        st.caption(ps.METRICS_CAPTION)

    st.markdown("**Suggestions** on the best-known front")
    top, bottom = st.columns(4), st.columns(4)
    weights = {}
    for col, (name, (desc, slider)) in zip(top, ps.SUGGESTIONS.items(), strict=True):
        col.markdown(f"**{name}**", help=desc)
        if slider:
            weights[name] = col.slider(slider, 0.0, 1.0, 0.5, 0.05, key=f"pareto-w-{name}")
        else:
            col.caption(ps.SUGGESTIONS_SHORT[name])
    rows = ps.suggestion_rows(case, best, weights["pseudo-weight"], weights["ASF"])
    for col, (name, row) in zip(bottom, rows.items(), strict=True):
        if row is None:
            col.caption("not defined for larger-the-better")
            continue
        sol = ps.solution(best, row, name)
        col.button(f"Pick: mean {sol['mean']:.4g}, sd {sol['sd']:.4g}",
                   key=f"pareto-pick-{name}", on_click=pick, args=(sol,),
                   help=f"Pick the {name} point")

    if cs.picked is None:
        st.info("Click a point on the chart, or accept a suggestion, to see its settings.")
    else:
        st.markdown(f"**Picked** · {cs.picked['source']}")
        st.table(ps.shown_solution(cs.picked, case.variables))
        st.button("Add to shortlist", key="pareto-add", on_click=shortlist_add,
                  type="primary")
        color = st.radio("Colour lines by", ["F1", "sd"], horizontal=True,
                         key="pareto-color")
        st.plotly_chart(parallel_figure(best, case.variables, bounds=case.bounds,
                                        color_by=color, picked=cs.picked),
                        width="stretch", key="pareto-parallel")

    if cs.shortlist:
        st.markdown(f"**Shortlist** ({len(cs.shortlist)})")
        frame = ps.solutions_frame(cs.shortlist, case.variables)
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
