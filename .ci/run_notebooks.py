"""Execute each notebook given on the command line top to bottom (nbclient, the
Jupyter kernel of this interpreter); fail on the first cell that raises.  Outputs
are kept in memory only, so the repository's notebooks stay output-free."""

from __future__ import annotations

import sys
import time

import nbformat
from nbclient import NotebookClient


def main(paths: list[str]) -> int:
    for path in paths:
        began = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=600, kernel_name="python3").execute()
        cells = sum(cell.cell_type == "code" for cell in notebook.cells)
        print(f"{path}: {cells} code cells ran in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
