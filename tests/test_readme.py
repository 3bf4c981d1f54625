"""Every Python snippet in README.md runs on its own (a fresh interpreter per snippet) and prints what
the README says it prints (the `# ->` comments)."""
import pathlib
import re
import subprocess
import sys

import pytest

from conftest import params_marked_slow

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_snippets():
    assert len(SNIPPETS) >= 3


# The GAN example (WGAN-GP on ring-8, 3 000 × 5 Adam steps for 4 seeds, ~70 s) runs only with --runslow;
# tests/test_mixture.py runs the same recipe (alternating Adam, 5 critic steps on fresh batches) in CI.
IDS = [f"snippet{i}" for i in range(len(SNIPPETS))]
PARAMS = params_marked_slow(SNIPPETS, IDS, {i for i, code in zip(IDS, SNIPPETS) if "ring8" in code and "wgan_gp" in code})


@pytest.mark.parametrize("code", PARAMS)
def test_readme_snippet_runs_standalone_and_prints_what_it_claims(code, tmp_path):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    claims = [c.strip() for c in re.findall(r"#\s*->\s*(.*)", code)]
    printed = [line.strip() for line in out.stdout.splitlines()]
    assert printed[-len(claims):] == claims if claims else True, (printed, claims)
