"""`minimax report DIR`: Markdown tables and figures from the JSON/PNG results."""
from minimax import cli
from minimax.experiments.report import markdown_table, render
from minimax.results import write_results


def test_markdown_table_keeps_scalar_columns_and_formats_numbers():
    rows = [{"a": 1, "b": 0.123456, "traj": list(range(20))}, {"a": 2, "b": None, "traj": []}]
    text = markdown_table(rows)
    assert text.splitlines()[0] == "| a | b |"
    assert "| 1 | 0.1235 |" in text and "| 2 | – |" in text


def test_report_has_a_section_per_result_with_its_figures(tmp_path):
    write_results(str(tmp_path), "dirac", {"seeds": 3}, [{"distance": "js", "converged": 3}])
    (tmp_path / "dirac_trajectories.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "notes.json").write_text("[1, 2]")  # not a results file: ignored
    text = render(str(tmp_path))
    assert "## dirac" in text and "| js | 3 |" in text and "![dirac_trajectories.png](dirac_trajectories.png)" in text
    assert "notes" not in text
    assert cli.main(["report", str(tmp_path)]) == 0
    assert (tmp_path / "report.md").read_text() == text


def test_missing_directory_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
