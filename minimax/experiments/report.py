"""``minimax report DIR``: one Markdown page from the JSON results and PNG figures in DIR.

Each ``DIR/<name>.json`` written by an experiment ({"config", "versions", "rows"}) becomes a
section with its configuration, a table of its rows (scalar columns only; lists such as
trajectories stay in the JSON/CSV) and the figures ``DIR/<name>*.png`` beside it.
"""
from __future__ import annotations

import glob
import json
import os

from minimax.experiments.common import UsageError


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(map(str, value)) if len(value) <= 8 else f"[{len(value)} values]"
    return str(value)


def markdown_table(rows, columns=None) -> str:
    """A Markdown table of ``rows`` (dicts); default columns: every key whose values are scalars or short lists."""
    if columns is None:
        columns = [k for k in dict.fromkeys(k for r in rows for k in r)
                   if all(not isinstance(r.get(k), (list, dict)) or len(r.get(k)) <= 8 for r in rows)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def render(directory: str) -> str:
    """The Markdown text of the report of ``directory``."""
    files = sorted(glob.glob(os.path.join(directory, "*.json")))
    parts = [f"# minimax results: `{os.path.abspath(directory)}`", ""]
    for path in files:
        with open(path) as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or "rows" not in doc:
            continue
        name = os.path.splitext(os.path.basename(path))[0]
        config = {k: v for k, v in doc.get("config", {}).items() if not isinstance(v, list) or len(v) <= 8}
        parts += [f"## {name}", "", "Configuration: " + ", ".join(f"`{k}={_cell(v)}`" for k, v in config.items()), "",
                  markdown_table(doc["rows"]), ""]
        for png in sorted(glob.glob(os.path.join(directory, f"{name}*.png"))):
            parts += [f"![{os.path.basename(png)}]({os.path.basename(png)})", ""]
        v = doc.get("versions", {})
        parts += [f"<sub>jax {v.get('jax')}, optax {v.get('optax')}, backend {v.get('backend')}</sub>", ""]
    if len(parts) == 2:
        parts.append("No result files (`*.json` with rows) in this directory.")
    return "\n".join(parts)


def add_arguments(parser):
    parser.add_argument("directory", nargs="?", default="./minimax-results",
                        help="results directory, default ./minimax-results")
    parser.add_argument("--out", default=None, help="Markdown file to write, default DIRECTORY/report.md")


def main(args) -> int:
    if not os.path.isdir(args.directory):
        raise UsageError(f"results directory {args.directory!r} does not exist")
    out = args.out or os.path.join(args.directory, "report.md")
    text = render(args.directory)
    with open(out, "w") as f:
        f.write(text)
    print(f"wrote {out} ({text.count(chr(10) + '## ')} sections)")
    return 0
