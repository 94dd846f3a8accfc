"""Executes a notebook headlessly in its own folder, on a fresh kernel of
this Python, and fails on the first cell that raises.

    python run_notebook.py examples/notebooks/failover.ipynb
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main(path):
    path = Path(path).resolve()
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.get("outputs"):
            sys.exit(f"{path}: stored with outputs (clear them before committing)")
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    shown = sum(len(c.get("outputs", [])) for c in notebook.cells if c.cell_type == "code")
    print(f"{path.name}: {len(notebook.cells)} cells ran, {shown} outputs")


if __name__ == "__main__":
    main(sys.argv[1])
