"""``samples/use_fixed_mapping.py`` runs end to end (small budget, one sweep point)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_use_fixed_mapping_sample_runs(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "samples" / "use_fixed_mapping.py"), "--time", "1",
         "--out", str(tmp_path), "--workers", "1", "--depths", "13824,1024"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "re-evaluated stats identical: True" in out
    assert (tmp_path / "best.map.yaml").read_text().startswith("mapping:")
    # the fixed example mapping fits the full-size buffer but not a 4096-word one
    rows = [line for line in out.splitlines() if line.strip().startswith("| 13824")
            or line.strip().startswith("| 1024")]
    assert len(rows) == 2
    assert "invalid" not in rows[0] and "invalid (TL_MAP_CAPACITY)" in rows[1]
