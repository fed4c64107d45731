"""Property-based tests (hypothesis) over the reader, loader, schema and renderer.
bench/fuzz.py runs the same properties for minutes."""

from __future__ import annotations

import properties as p
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(p.yaml_text)
def test_reader_raises_only_yaml_errors(text):
    p.check_yaml(text)


@FAST
@given(p.mutated_entry())
def test_mutated_entries_give_findings_not_crashes(case):
    p.check_mutated(*case)


@FAST
@given(p.mutated_measurements())
def test_mutated_measurement_files_give_findings_not_crashes(data):
    p.check_measurements(data)


@FAST
@given(st.sampled_from(sorted(p.KINDS)), st.dictionaries(st.text(max_size=15), p.json_value, max_size=8))
def test_schema_raises_only_validation_errors(kind, data):
    p.check_schema(kind, data)


@FAST
@given(p.markdown_text)
def test_rendered_markdown_never_carries_script(text):
    p.check_markdown(text)


@FAST
@given(p.latex_text)
def test_formulas_become_safe_mathml(latex):
    p.check_latex(latex)


@FAST
@given(p.expression_text())
def test_expressions_give_text_or_findings(text):
    p.check_expression(text)


@FAST
@given(p.where_text())
def test_where_filters_select_or_explain(case):
    p.check_where(case)


@FAST
@given(p.trace_file())
def test_traces_load_or_give_findings(case):
    p.check_trace(case)


def test_hostile_samples_are_neutralised():
    for sample in p.HOSTILE:
        p.check_markdown(sample)
